/** Model markdown → safe HTML, read the way its writer meant it (render/writer.ts), then the
 * sanitiser over everything. The result is the only string the page puts in as HTML.
 *
 * - Text (line-OCR engines, text layers): no math, no inline markup, no emphasis, links or entities;
 *   only the HTML tables the backends' table writer makes (their cells are escaped) are kept. Line
 *   breaks are hard breaks; headings and pipe tables (the backends write them) stay.
 * - Model markdown (MinerU, DeepSeek-OCR): markdown as the model wrote it, raw HTML passed only for
 *   the tags document models write on purpose, math with KaTeX in that model's own delimiters. */
import { katex, type MarkdownItKatexOptions } from "@mdit/plugin-katex-slim";
import MarkdownIt from "markdown-it";
import { escapeUnlistedHtml, TABLE_TAGS } from "./html_filter";
import { sanitizeHtml } from "./sanitize";
import type { Writer } from "./writer";

const KATEX: MarkdownItKatexOptions = { throwOnError: false, output: "htmlAndMathml", trust: false, maxExpand: 200, maxSize: 20 };

function modelMarkdown(delimiters: "dollars" | "brackets"): MarkdownIt {
  const md = new MarkdownIt({ html: true, linkify: false, breaks: true });
  md.use(katex, { ...KATEX, delimiters });
  for (const rule of ["html_block", "html_inline"] as const) {
    md.renderer.rules[rule] = (tokens, index) => escapeUnlistedHtml(tokens[index].content);
  }
  return md;
}

/** A whole HTML table, as shared/table.py writes it (the only HTML a line-OCR backend writes). */
const WHOLE_TABLE = /^<table>[\s\S]*<\/table>$/;

function textMarkdown(): MarkdownIt {
  const md = new MarkdownIt({ html: true, linkify: false, breaks: true });
  md.disable(["emphasis", "strikethrough", "link", "image", "autolink", "entity", "backticks",
    "list", "blockquote", "fence", "code", "reference", "lheading", "hr"]);
  const { escapeHtml } = md.utils;
  // Anything else that looks like HTML is text that was on the page: shown as written, lines kept.
  md.renderer.rules.html_block = (tokens, index) => {
    const content = tokens[index].content;
    if (WHOLE_TABLE.test(content.trim())) return escapeUnlistedHtml(content, TABLE_TAGS);
    return `<p>${content.trimEnd().split("\n").map(escapeHtml).join("<br>\n")}</p>\n`;
  };
  md.renderer.rules.html_inline = (tokens, index) => escapeHtml(tokens[index].content);
  return md;
}

const RENDERERS: Record<Writer, MarkdownIt> = {
  text: textMarkdown(),
  mineru: modelMarkdown("dollars"),
  "deepseek-ocr": modelMarkdown("brackets"),
};

export function renderMarkdown(markdown: string, writer: Writer): string {
  return sanitizeHtml(RENDERERS[writer].render(markdown));
}
