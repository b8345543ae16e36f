import { describe, expect, it } from "vitest";
import { blocksInText, elementForBlock, normalised } from "./link";

describe("page ↔ text", () => {
  const blocks = [{ text: "Coffee $3.50" }, { text: "Bagel   $2.25" }, { text: "" }];

  it("finds the blocks in an element's text, whitespace and case aside", () => {
    expect(normalised("  A\\#  b\n")).toBe("a# b");
    expect(blocksInText(blocks, "Coffee $3.50\nBAGEL $2.25")).toEqual([0, 1]);
    expect(blocksInText(blocks, "Bagel $2.25")).toEqual([1]);
    expect(blocksInText(blocks, "")).toEqual([]);
  });

  it("finds the smallest element that holds a block's text", () => {
    const root = document.createElement("div");
    root.innerHTML = "<h1>Coffee $3.50</h1><table><tr><td>Bagel $2.25</td></tr></table><p>Tax</p>";
    expect(elementForBlock(root, "Bagel $2.25")?.tagName).toBe("TD");
    expect(elementForBlock(root, "coffee $3.50")?.tagName).toBe("H1");
    expect(elementForBlock(root, "Muffin")).toBeNull();
    expect(elementForBlock(root, "")).toBeNull();
  });
});
