/** Page ↔ text: which rendered element holds a block's text, and which blocks an element's text
 * holds. The rendered markdown does not carry block ids (backends write it apart from their
 * blocks), so the link is by text: a block's first characters, whitespace and case aside. */

/** The elements of rendered markdown that hold text a block could be. */
export const TEXT_ELEMENTS = "p, h1, h2, h3, h4, h5, h6, li, td, th, pre, blockquote";

/** How many leading characters of a block identify it. */
const NEEDLE = 40;

export function normalised(text: string): string {
  return text.replace(/\\/g, "").replace(/\s+/g, " ").trim().toLowerCase();
}

/** The indices of the blocks whose text is in ``text``. */
export function blocksInText(blocks: readonly { text: string }[], text: string): number[] {
  const haystack = normalised(text);
  if (!haystack) return [];
  return blocks.flatMap((block, index) => {
    const needle = normalised(block.text).slice(0, NEEDLE);
    return needle && haystack.includes(needle) ? [index] : [];
  });
}

/** The smallest text element under ``root`` that holds the start of ``blockText``, or null. */
export function elementForBlock(root: ParentNode, blockText: string): Element | null {
  const needle = normalised(blockText).slice(0, NEEDLE);
  if (!needle) return null;
  let best: Element | null = null;
  for (const element of root.querySelectorAll(TEXT_ELEMENTS)) {
    const text = element.textContent ?? "";
    if (normalised(text).includes(needle) && (!best || text.length < (best.textContent ?? "").length)) best = element;
  }
  return best;
}
