import { describe, expect, it } from "vitest";
import { anchorOf, keyOf, targetOf, type Measured } from "./scroll_sync";

const at = (page: number | null, text: string, top: number, height = 20): Measured => ({ page, key: keyOf(text), top, height });

describe("scroll sync by page and block", () => {
  // One backend writes a big heading and more lines per page; the other plain paragraphs.
  const left = [at(1, "Invoice 2026", 0, 60), at(1, "Line two", 60), at(1, "Line three", 80), at(2, "Second page", 120), at(2, "Total due", 140)];
  const right = [at(1, "Invoice 2026", 0), at(1, "Line two", 20), at(1, "Line three", 40), at(2, "Second page", 300), at(2, "Total due", 320)];

  it("takes the element at the top of the pane, its page and how far into it", () => {
    expect(anchorOf(left, 130)).toEqual({ page: 2, key: "second page", place: 0, into: 0.5 });
    expect(anchorOf(left, 0)?.key).toBe("invoice 2026");
    expect(anchorOf(left, 1000)).toBeNull();
  });

  it("brings the same block of the same page to the top of the other pane, whatever the heights", () => {
    // By fraction of height the right pane would be at 130/160 of its 340: 276, page 1. By block: page 2.
    expect(targetOf(anchorOf(left, 130)!, right)).toBe(310);
    expect(targetOf(anchorOf(left, 70)!, right)).toBe(30);
  });

  it("finds a block by its place on the page when the other backend read it otherwise", () => {
    const reread = [at(2, "Seccnd pagc", 500), at(2, "T0tal dve", 520), at(2, "Footer", 540)];
    expect(targetOf({ page: 2, key: "total due", place: 1, into: 0 }, reread)).toBe(540);
    expect(targetOf({ page: 2, key: "nothing like it", place: 0.5, into: 0 }, reread)).toBe(520);
  });

  it("of a repeated line takes the one nearest its place", () => {
    const repeated = [at(1, "Subtotal", 0), at(1, "Item", 20), at(1, "Subtotal", 40)];
    expect(targetOf({ page: 1, key: "subtotal", place: 1, into: 0 }, repeated)).toBe(40);
    expect(targetOf({ page: 1, key: "subtotal", place: 0, into: 0 }, repeated)).toBe(0);
  });

  it("says nothing when the other pane has no text of that page (yet)", () => {
    expect(targetOf({ page: 3, key: "x", place: 0, into: 0 }, right)).toBeNull();
  });
});
