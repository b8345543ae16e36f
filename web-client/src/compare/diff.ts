/** Word-level diff of two texts (a pane against another, or against the reference): the longest
 * common subsequence of their words, as runs of equal, removed (only in the first) and added (only
 * in the second) words. Words are compared as written (case and punctuation count: that is what OCR
 * gets wrong); markdown syntax the backends add is left out first. */

export type DiffKind = "equal" | "removed" | "added";

export interface DiffRun {
  kind: DiffKind;
  words: string[];
}

/** Past this many word pairs the table would be too big for a page (about 16 MB): no diff. */
export const MAX_CELLS = 4_000_000;

/** The words of a result's markdown: no HTML tags, backslash escapes, heading or list markers,
 * table pipes or rules. */
export function plainWords(markdown: string): string[] {
  const text = markdown
    .replace(/<[^<>]*>/g, " ")
    .replace(/\\([\\`*_{}[\]()#+\-.!|>$])/g, "$1")
    .replace(/^\s{0,3}#{1,6}\s+/gm, "")
    .replace(/^\s*\|?(\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*$/gm, " ")
    .replace(/\|/g, " ");
  return text.split(/\s+/).filter((word) => word !== "" && !/^-{3,}$/.test(word));
}

function push(runs: DiffRun[], kind: DiffKind, word: string): void {
  const last = runs[runs.length - 1];
  if (last?.kind === kind) last.words.push(word);
  else runs.push({ kind, words: [word] });
}

/** The runs from ``a`` to ``b``, or null when the texts are too long to compare here. */
export function diffWords(a: string[], b: string[]): DiffRun[] | null {
  // Common ends first: most OCR texts differ in a few places.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) return null;
  // lcs[i * (m + 1) + j]: the longest common subsequence of midA[i:] and midB[j:].
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lcs[i * width + j] = midA[i] === midB[j]
        ? lcs[(i + 1) * width + j + 1] + 1
        : Math.max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
    }
  }
  const runs: DiffRun[] = [];
  for (const word of a.slice(0, start)) push(runs, "equal", word);
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (midA[i] === midB[j]) {
      push(runs, "equal", midA[i]);
      i += 1;
      j += 1;
    } else if (lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) {
      push(runs, "removed", midA[i]);
      i += 1;
    } else {
      push(runs, "added", midB[j]);
      j += 1;
    }
  }
  for (; i < n; i += 1) push(runs, "removed", midA[i]);
  for (; j < m; j += 1) push(runs, "added", midB[j]);
  for (const word of a.slice(endA)) push(runs, "equal", word);
  return runs;
}

/** How many words differ on each side. */
export function diffCounts(runs: DiffRun[]): { removed: number; added: number; equal: number } {
  const counts = { removed: 0, added: 0, equal: 0 };
  for (const run of runs) counts[run.kind] += run.words.length;
  return counts;
}

/** The words only in the first text and only in the second. */
export function differingWords(runs: DiffRun[]): { removed: Set<string>; added: Set<string> } {
  const removed = new Set<string>();
  const added = new Set<string>();
  for (const run of runs) {
    if (run.kind === "equal") continue;
    for (const word of run.words) (run.kind === "removed" ? removed : added).add(word);
  }
  return { removed, added };
}

/** The indices of the blocks whose text has one of ``words``: where the differences are on the page.
 * By word, not position: a word that differs in one place marks every block that has it. */
export function blocksWithWords(blocks: readonly { text: string }[], words: ReadonlySet<string>): Set<number> {
  const marked = new Set<number>();
  if (!words.size) return marked;
  blocks.forEach((block, index) => {
    if (plainWords(block.text).some((word) => words.has(word))) marked.add(index);
  });
  return marked;
}
