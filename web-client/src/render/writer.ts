/** Who wrote a page's markdown decides how it is read.
 *
 * Line-OCR engines (rapidocr, tesseract) and a PDF's text layer give text as it is on the page: a
 * `$` is a dollar, a `<b>` is three characters, a line break is a line break. Only the backends
 * whose models write LaTeX mark math, each with its own delimiters: MinerU `$…$` / `$$…$$` (its
 * inline equations and its `equation` blocks), DeepSeek-OCR `\(…\)` / `\[…\]`. An `equation`
 * block from a line-OCR engine (the layout model found one) holds OCR'd characters, not LaTeX, so it
 * stays text. A backend the client does not know is read as text: showing LaTeX source is
 * harmless, turning amounts into formulas is not. */
import type { Page } from "../api/types";
import type { BackendKind } from "../options";

export type Writer = "text" | "mineru" | "deepseek-ocr";

export function pageWriter(kind: BackendKind, page?: Pick<Page, "source">): Writer {
  if (page?.source === "text_layer") return "text";
  return kind === "mineru" || kind === "deepseek-ocr" ? kind : "text";
}
