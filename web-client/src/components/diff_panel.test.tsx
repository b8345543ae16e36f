import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { blocksWithWords, differingWords, diffWords } from "../compare/diff";
import { DiffPanel, pickPair, useWordDiff, type DiffSource } from "./DiffPanel";

afterEach(cleanup);

/** As CompareView holds it: the pair picked, the diff of it. */
function Host({ sources }: { sources: DiffSource[] }) {
  const [picked, setPicked] = useState<[string, string] | null>(null);
  const pair = pickPair(sources.map((source) => source.name), picked);
  const runs = useWordDiff(sources, pair);
  return <DiffPanel sources={sources} pair={pair} onPair={setPicked} runs={runs} />;
}

describe("DiffPanel", () => {
  const sources = [
    { name: "rapidocr", text: "# Invoice\n\nfor three units" },
    { name: "tesseract", text: "Invoice for thre units" },
    { name: "reference", text: "Invoice for four units" },
  ];

  it("starts with the first backend against the reference, and marks each side's words", () => {
    render(<Host sources={sources} />);
    expect((screen.getByTestId("diff-first") as HTMLSelectElement).value).toBe("rapidocr");
    expect((screen.getByTestId("diff-second") as HTMLSelectElement).value).toBe("reference");
    expect(screen.getByTestId("diff-removed").textContent).toBe("three");
    expect(screen.getByTestId("diff-added").textContent).toBe("four");
    expect(screen.getByTestId("diff-counts").textContent).toBe("1 word only in rapidocr, 1 only in reference, 3 the same");
  });

  it("compares any two", () => {
    render(<Host sources={sources} />);
    fireEvent.change(screen.getByTestId("diff-second"), { target: { value: "tesseract" } });
    expect(screen.getByTestId("diff-added").textContent).toBe("thre");
  });

  it("picks the second backend without a reference, and keeps a pick only while both are there", () => {
    expect(pickPair(["a", "b"], null)).toEqual(["a", "b"]);
    expect(pickPair(["a", "b", "reference"], ["b", "a"])).toEqual(["b", "a"]);
    expect(pickPair(["a", "c"], ["b", "a"])).toEqual(["a", "c"]);
  });
});

describe("differences on the page", () => {
  it("marks the blocks that hold a differing word, on each side", () => {
    const runs = diffWords("Total 127.50 EUR".split(" "), "Total 127.60 EUR".split(" ")) ?? [];
    const { removed, added } = differingWords(runs);
    expect([...removed]).toEqual(["127.50"]);
    expect([...added]).toEqual(["127.60"]);
    const blocks = [{ text: "Invoice 7" }, { text: "Total 127.50 EUR" }];
    expect([...blocksWithWords(blocks, removed)]).toEqual([1]);
    expect(blocksWithWords(blocks, added).size).toBe(0);
  });
});
