/** Model markdown → safe HTML: markdown-it (raw HTML passed only for the kept table tags), math with
 * KaTeX (`$…$`, `$$…$$`, `\(…\)`, `\[…\]`: MinerU writes dollars, DeepSeek brackets), then the
 * sanitiser over everything. The result is the only string the page puts in as HTML. */
import { katex } from "@mdit/plugin-katex-slim";
import MarkdownIt from "markdown-it";
import { escapeUnlistedHtml } from "./html_filter";
import { sanitizeHtml } from "./sanitize";

const md = new MarkdownIt({ html: true, linkify: false, breaks: false });
md.use(katex, { delimiters: "all", throwOnError: false, output: "htmlAndMathml", trust: false, maxExpand: 200, maxSize: 20 });

for (const rule of ["html_block", "html_inline"] as const) {
  md.renderer.rules[rule] = (tokens, index) => escapeUnlistedHtml(tokens[index].content);
}

export function renderMarkdown(markdown: string): string {
  return sanitizeHtml(md.render(markdown));
}
