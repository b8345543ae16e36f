import { describe, expect, it } from "vitest";
import type { Comparison } from "../api/types";
import { backendColor, backendColors } from "../render/colors";
import { diffCounts, diffWords, plainWords } from "./diff";
import { meanAgreement, scoresTable, toTsv } from "./scores";
import { timeLabel } from "./timing";

describe("backend colours", () => {
  it("follow the name, not the position in a run", () => {
    const all = ["rapidocr", "tesseract", "mineru", "deepseek-ocr"];
    const once = backendColors(all);
    const reordered = backendColors([...all].reverse());
    for (const name of all) expect(reordered.get(name)).toBe(once.get(name));
    expect(backendColor("tesseract", all)).toBe(once.get("tesseract"));
  });

  it("are all different up to the palette's size, whatever the names hash to", () => {
    const names = Array.from({ length: 8 }, (_, index) => `backend-${index}`);
    expect(new Set(backendColors(names).values()).size).toBe(8);
    expect(new Set(backendColors(["rapidocr", "tesseract", "mineru", "deepseek-ocr"]).values()).size).toBe(4);
  });
});

describe("one time per backend", () => {
  it("is the orchestrator's time, else the backend's; a cached result gives its first run's", () => {
    expect(timeLabel({ processing_time: 6.19 }, 0.5)).toBe("0.50 s");
    expect(timeLabel({ processing_time: 6.19 })).toBe("6.19 s");
    expect(timeLabel({ processing_time: 6.19, cache: { hit: true } }, 0.02)).toBe("from cache, first run took 6.19 s");
    expect(timeLabel(null, 1)).toBe("1.00 s");
    expect(timeLabel(null)).toBeNull();
  });
});

const ok = (name: string, seconds: number, cached = false) => ({
  success: true, backend: name, model: "m", request_id: "r", image_name: null, document_type: "image", raw_result: {},
  markdown: "", source_markdown: "", boxes_image: null, processing_time: seconds, timings: {}, warnings: [], pages: [],
  ...(cached ? { cache: { hit: true } } : {}),
});

const comparison = {
  success: true, comparison: true, request_id: "r", document_type: "image", backends: ["a", "b", "c"],
  results: {
    a: ok("a", 1.5), b: ok("b", 6.19, true),
    c: { success: false, backend: "c", error: { code: "backend_unavailable", message: "down", retryable: true }, request_id: "r" },
  },
  times: { a: 1.6, b: 0.02, c: 0.01 },
  agreement: [{ backends: ["a", "b"], agreement: 0.9 }],
  reference_scores: { a: { cer: 0.05, wer: 0.1 }, b: { cer: 0.2, wer: 0.25 } },
} as unknown as Comparison;

describe("the latency and accuracy table", () => {
  it("has one row per backend: time, result, CER, WER, mean agreement", () => {
    const table = scoresTable(comparison);
    expect(table.header).toEqual(["backend", "time", "result", "CER", "WER", "agreement"]);
    expect(table.rows).toEqual([
      ["a", "1.60 s", "ok", "5.0 %", "10.0 %", "90.0 %"],
      ["b", "from cache, first run took 6.19 s", "ok", "20.0 %", "25.0 %", "90.0 %"],
      ["c", "0.01 s", "error (backend_unavailable)", "—", "—", "—"],
    ]);
  });

  it("leaves out CER and WER without a reference", () => {
    const { reference_scores: _none, ...plain } = comparison;
    expect(scoresTable(plain as Comparison).header).toEqual(["backend", "time", "result", "agreement"]);
  });

  it("averages a backend's agreement over its pairs", () => {
    expect(meanAgreement({ agreement: [{ backends: ["a", "b"], agreement: 0.8 }, { backends: ["a", "c"], agreement: 0.4 }] }, "a")).toBeCloseTo(0.6);
    expect(meanAgreement({ agreement: [] }, "a")).toBeNull();
  });

  it("copies as tab-separated lines", () => {
    expect(toTsv({ header: ["backend", "time"], rows: [["a\tb", "1 s"]] })).toBe("backend\ttime\na b\t1 s\n");
  });
});

describe("word diff", () => {
  it("keeps the common words and marks the others on each side", () => {
    const runs = diffWords("Invoice for three units at 42".split(" "), "Invoice for four units at 42 EUR".split(" "));
    expect(runs).toEqual([
      { kind: "equal", words: ["Invoice", "for"] },
      { kind: "removed", words: ["three"] },
      { kind: "added", words: ["four"] },
      { kind: "equal", words: ["units", "at", "42"] },
      { kind: "added", words: ["EUR"] },
    ]);
    expect(diffCounts(runs ?? [])).toEqual({ removed: 1, added: 2, equal: 5 });
  });

  it("handles empty sides and identical texts", () => {
    expect(diffWords([], ["a"])).toEqual([{ kind: "added", words: ["a"] }]);
    expect(diffWords(["a", "b"], ["a", "b"])).toEqual([{ kind: "equal", words: ["a", "b"] }]);
    expect(diffWords([], [])).toEqual([]);
  });

  it("gives up on texts too long to compare in the page", () => {
    const many = Array.from({ length: 2100 }, (_, index) => `w${index}`);
    expect(diffWords(many, [...many].reverse())).toBeNull();
  });

  it("compares words, not the markdown the backends add", () => {
    expect(plainWords("# Title\n\n\\- item 12\\. <b>x</b>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n---\n\nend"))
      .toEqual(["Title", "-", "item", "12.", "x", "a", "b", "1", "2", "end"]);
  });
});
