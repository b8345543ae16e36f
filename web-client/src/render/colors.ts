/** Colours of the boxes: by block type in a single run, by backend in a comparison. */
const TYPE_COLORS: Record<string, string> = {
  text: "#2563eb", title: "#dc2626", sub_title: "#ea580c", table: "#16a34a", table_caption: "#65a30d",
  image: "#9333ea", image_caption: "#c026d3", figure: "#9333ea", equation: "#0891b2", interline_equation: "#0891b2",
  list: "#ca8a04", header: "#64748b", footer: "#64748b", match: "#e11d48", line: "#2563eb", word: "#2563eb",
};
const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];

function hashIndex(text: string): number {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % PALETTE.length;
}

export function typeColor(type: string): string {
  return TYPE_COLORS[type] ?? PALETTE[hashIndex(type)];
}

/** The n-th backend of a comparison gets the n-th colour. */
export function backendColor(index: number): string {
  return PALETTE[index % PALETTE.length];
}
