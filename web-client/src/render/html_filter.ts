/** Keeps the few HTML tags that document models write on purpose (tables, line breaks, sub/sup) and
 * turns every other tag into visible text. A scanned page that says `<img src=x onerror=…>` is text
 * on the page, so it must read as that text, not disappear into (or become) an element. */

/** A table's structure: all a line-OCR backend's own HTML has. */
export const TABLE_TAGS: ReadonlySet<string> = new Set(["table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col"]);

export const KEPT_TAGS: ReadonlySet<string> = new Set([
  ...TABLE_TAGS,
  "br", "sub", "sup", "b", "i", "strong", "em", "u", "center", "p", "div", "span",
]);

const TAG = /<\/?([a-zA-Z][a-zA-Z0-9-]*)\b[^<>]*>/g;

export function escapeAngles(text: string): string {
  return text.replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** HTML written by a model → the same with tags not in ``kept`` (and stray angle brackets) escaped.
 * The kept tags' attributes are left to the sanitiser, which runs on the whole rendered page after. */
export function escapeUnlistedHtml(html: string, kept: ReadonlySet<string> = KEPT_TAGS): string {
  let out = "";
  let last = 0;
  for (const match of html.matchAll(TAG)) {
    const index = match.index ?? 0;
    out += escapeAngles(html.slice(last, index));
    out += kept.has(match[1].toLowerCase()) ? match[0] : escapeAngles(match[0]);
    last = index + match[0].length;
  }
  return out + escapeAngles(html.slice(last));
}
