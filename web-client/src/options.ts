/** Per-backend options: which controls a backend gets, and the form fields they become. Option
 * names are those the backends read (backends/deepseek_ocr/backend.py, backends/mineru_backend). */
import type { BackendStatus } from "./api/types";

export const DEEPSEEK_MODES = ["document", "ocr", "free", "figure", "describe", "locate"] as const;
export const MINERU_TIERS = ["flash", "basic", "standard", "advanced"] as const;
export const MINERU_OCR_MODES = ["auto", "txt", "ocr"] as const;

export interface OcrOptions {
  mode: string;
  phrase: string;
  prompt: string;
  tier: string;
  ocr_mode: string;
  page_range: string;
  pdf_mode: "ocr" | "auto";
}

export const DEFAULT_OPTIONS: OcrOptions = {
  mode: "", phrase: "", prompt: "", tier: "", ocr_mode: "", page_range: "", pdf_mode: "ocr",
};

export type BackendKind = "deepseek-ocr" | "mineru" | "other";

/** The backend's own name from its health (a deployment may register it under another name). */
export function backendKind(status: BackendStatus | undefined): BackendKind {
  const own = status?.health && typeof status.health.backend === "string" ? status.health.backend : status?.name;
  if (own === "deepseek-ocr") return "deepseek-ocr";
  if (own === "mineru") return "mineru";
  return "other";
}

/** Form fields for the backends chosen; an empty value means "the backend's default" and is not sent. */
export function optionFields(options: OcrOptions, kinds: BackendKind[], isPdf: boolean): Record<string, string> {
  const fields: Record<string, string> = {};
  if (kinds.includes("deepseek-ocr")) {
    if (options.prompt.trim()) fields.prompt = options.prompt;
    else if (options.mode) {
      fields.mode = options.mode;
      if (options.mode === "locate") fields.phrase = options.phrase;
    }
  }
  if (kinds.includes("mineru")) {
    if (options.tier) fields.tier = options.tier;
    if (options.ocr_mode) fields.ocr_mode = options.ocr_mode;
  }
  if (isPdf) {
    if (options.page_range.trim()) fields.page_range = options.page_range.trim();
    fields.pdf_mode = options.pdf_mode;
  }
  return fields;
}

export const SELECTABLE = "healthy";

export function isSelectable(status: BackendStatus): boolean {
  return status.status === SELECTABLE;
}
