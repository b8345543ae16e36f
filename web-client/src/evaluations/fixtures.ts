/** An evaluation as `GET /evaluations/<id>` answers, for the tests. */
import type { DocumentDetail, Evaluation, LeaderboardRow } from "./types";

export const row = (backend: string, cer: number | null, pagesPerSecond: number | null, extra: Partial<LeaderboardRow> = {}): LeaderboardRow => ({
  backend,
  documents: 3,
  failed: 0,
  cer,
  wer: cer == null ? null : cer * 2,
  word_f1: cer == null ? null : 1 - cer,
  macro: { cer: cer == null ? null : cer + 0.01, wer: cer == null ? null : cer * 2 + 0.01, word_f1: cer == null ? null : 0.99 - cer },
  pages_per_second: pagesPerSecond,
  by_kind: {},
  ...extra,
});

export const evaluation: Evaluation = {
  id: "ev1",
  url: "/evaluations/ev1",
  events_url: "/evaluations/ev1/events",
  options: {},
  status: "done",
  created: "2026-12-07T20:00:00Z",
  finished: "2026-12-07T20:01:00Z",
  backends: ["rapidocr", "tesseract"],
  normalization: { case: true, whitespace: true, markdown: true, unicode: false },
  documents: [{ name: "a.png", kind: "receipt", pages: 1 }, { name: "b.png", kind: "letter", pages: 1 }, { name: "c.png", kind: "letter", pages: 1 }],
  progress: { rapidocr: { done: 3, total: 3, failed: 0 }, tesseract: { done: 3, total: 3, failed: 1 } },
  results: [
    { document: "a.png", kind: "receipt", backend: "rapidocr", cer: 0.05, wer: 0.1, word_f1: 0.9, pages: 1, seconds: 1, seconds_per_page: 1, cached: false, error: null },
    { document: "b.png", kind: "letter", backend: "rapidocr", cer: 0.2, wer: 0.3, word_f1: 0.7, pages: 1, seconds: 1, seconds_per_page: 1, cached: false, error: null },
    { document: "c.png", kind: "letter", backend: "rapidocr", cer: 0.01, wer: 0.02, word_f1: 0.99, pages: 1, seconds: 1, seconds_per_page: 1, cached: false, error: null },
    { document: "a.png", kind: "receipt", backend: "tesseract", cer: 0.3, wer: 0.4, word_f1: 0.6, pages: 1, seconds: 0.5, seconds_per_page: 0.5, cached: false, error: null },
    { document: "b.png", kind: "letter", backend: "tesseract", cer: null, wer: null, word_f1: null, pages: 1, seconds: 2, seconds_per_page: null, cached: false, error: { code: "backend_error", message: "boom", retryable: false } },
    { document: "c.png", kind: "letter", backend: "tesseract", cer: 0.1, wer: 0.2, word_f1: 0.8, pages: 1, seconds: 0.5, seconds_per_page: 0.5, cached: false, error: null },
  ],
  leaderboard: [
    row("rapidocr", 0.08, 1, { by_kind: { letter: { documents: 2, cer: 0.1, wer: 0.16, word_f1: 0.85 }, receipt: { documents: 1, cer: 0.05, wer: 0.1, word_f1: 0.9 } } }),
    row("tesseract", 0.2, 2, { failed: 1, documents: 2, by_kind: { letter: { documents: 1, cer: 0.1, wer: 0.2, word_f1: 0.8 }, receipt: { documents: 1, cer: 0.3, wer: 0.4, word_f1: 0.6 } } }),
  ],
};

export const documentDetail: DocumentDetail = {
  name: "b.png",
  kind: "letter",
  pages: 1,
  reference: "Dear Sir the total is 12 euros",
  results: {
    rapidocr: { markdown: "Dear Sir the total is 13 euros", pages: [], cer: 0.03, wer: 0.14, word_f1: 0.86, seconds: 1, error: null },
    tesseract: { markdown: "Dear Sir total is 12 euros", pages: [{ page: 1, width: 10, height: 10, markdown: "Dear Sir total is 12 euros", blocks: [] }], cer: 0.1, wer: 0.14, word_f1: 0.92, seconds: 1, error: null },
  },
};
