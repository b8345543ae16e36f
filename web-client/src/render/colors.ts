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

/** One colour per backend *name*, the same in every run: each name takes the palette slot its hash
 * gives, or the next free one when a name before it (in name order) took that slot. ``names`` is
 * every backend the server lists (not only the ones in a run), so a run's picks do not move colours;
 * up to the palette's size, no two backends share one. */
export function backendColors(names: Iterable<string>): Map<string, string> {
  const colors = new Map<string, string>();
  const taken = new Set<number>();
  for (const name of [...new Set(names)].sort()) {
    let slot = hashIndex(name);
    for (let tries = 0; taken.has(slot) && tries < PALETTE.length; tries += 1) slot = (slot + 1) % PALETTE.length;
    taken.add(slot);
    colors.set(name, PALETTE[slot]);
  }
  return colors;
}

/** A backend's colour among ``known`` (see backendColors); a name not among them still gets one. */
export function backendColor(name: string, known: Iterable<string> = []): string {
  return backendColors([...known, name]).get(name) ?? PALETTE[hashIndex(name)];
}
