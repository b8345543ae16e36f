import { describe, expect, it } from "vitest";
import { backendKind, DEFAULT_OPTIONS, optionFields } from "./options";
import type { BackendStatus } from "./api/types";

const status = (name: string, own?: string): BackendStatus =>
  ({ name, url: "", status: "healthy", model: null, reason: null, checked_at: null, health: own ? { backend: own } : null });

describe("options", () => {
  it("knows a backend by its own name in its health", () => {
    expect(backendKind(status("ds2", "deepseek-ocr"))).toBe("deepseek-ocr");
    expect(backendKind(status("mineru"))).toBe("mineru");
    expect(backendKind(status("rapidocr", "rapidocr"))).toBe("other");
  });

  it("sends DeepSeek's mode (and phrase for locate), or the custom prompt instead", () => {
    expect(optionFields({ ...DEFAULT_OPTIONS, mode: "locate", phrase: "Total" }, ["deepseek-ocr"], false))
      .toEqual({ mode: "locate", phrase: "Total" });
    expect(optionFields({ ...DEFAULT_OPTIONS, mode: "free", prompt: "<image>\nRead it." }, ["deepseek-ocr"], false))
      .toEqual({ prompt: "<image>\nRead it." });
  });

  it("sends MinerU's tier only to MinerU, and PDF fields only for PDFs", () => {
    const options = { ...DEFAULT_OPTIONS, tier: "flash", mode: "free", page_range: " 1-2 " };
    expect(optionFields(options, ["other"], false)).toEqual({});
    expect(optionFields(options, ["mineru"], true)).toEqual({ tier: "flash", page_range: "1-2", pdf_mode: "ocr" });
  });
});
