/** The evaluation endpoints, through the client's one JSON call (time limits, API key, errors). */
import { requestJson, type CallOptions } from "../api/client";
import type { DocumentDetail, Evaluation, EvaluationAccepted, EvaluationSummary } from "./types";

export const NORMALIZATION_FLAGS = [
  { key: "case", label: "Ignore case" },
  { key: "whitespace", label: "Collapse whitespace" },
  { key: "markdown", label: "Strip markdown syntax" },
  { key: "unicode", label: "Unicode NFKC" },
] as const;

export type NormalizationKey = (typeof NORMALIZATION_FLAGS)[number]["key"];
export type Normalization = Record<NormalizationKey, boolean>;

export const DEFAULT_NORMALIZATION: Normalization = { case: true, whitespace: true, markdown: true, unicode: true };

/** What an evaluation runs on: files the user chose (a zip, or documents with their ground truth),
 * or the bundled sample set. */
export type EvaluationSource = { sample: true } | { sample: false; files: File[] };

/** The orchestrator reads at most this many parts in a form (`OCR_MAX_FORM_PARTS`, 64 by default):
 * the files and the two fields. A larger set goes up as one zip. */
export const MAX_FORM_PARTS = 64;
const FIELDS = 2;

/** Why these files cannot be sent as they are, or null. */
export function filesProblem(files: readonly File[]): string | null {
  if (files.length + FIELDS <= MAX_FORM_PARTS) return null;
  return `${files.length} files are more than one upload takes (${MAX_FORM_PARTS - FIELDS}): put the set in one zip and choose that.`;
}

const isZip = (file: File) => /\.zip$/i.test(file.name) || file.type === "application/zip";

/** The multipart form of `POST /evaluations`. One zip goes as `archive`; other files each as `file`. */
export function evaluationForm(source: EvaluationSource, backends: string[], normalization: Normalization): FormData {
  const form = new FormData();
  if (source.sample) form.append("sample", "true");
  else if (source.files.length === 1 && isZip(source.files[0])) form.append("archive", source.files[0], source.files[0].name);
  else for (const file of source.files) form.append("file", file, file.name);
  form.append("backends", backends.join(","));
  // The steps to run as a comma list; "none" when every one is off (an empty field means all).
  const steps = NORMALIZATION_FLAGS.filter(({ key }) => normalization[key]).map(({ key }) => key);
  form.append("normalization", steps.length ? steps.join(",") : "none");
  return form;
}

const base = (id: string) => `/evaluations/${encodeURIComponent(id)}`;

export const evaluationsApi = {
  start: (form: FormData, options?: CallOptions) =>
    requestJson<EvaluationAccepted>("/evaluations", { method: "POST", body: form }, { timeoutMs: 120_000, ...options }),
  list: (options?: CallOptions) => requestJson<{ evaluations: EvaluationSummary[] }>("/evaluations", { method: "GET" }, options),
  get: (id: string, options?: CallOptions) => requestJson<Evaluation>(base(id), { method: "GET" }, options),
  cancel: (id: string, options?: CallOptions) => requestJson<Evaluation>(base(id), { method: "DELETE" }, options),
  document: (id: string, name: string, options?: CallOptions) =>
    requestJson<DocumentDetail>(`${base(id)}/documents/${encodeURIComponent(name)}`, { method: "GET" }, options),
  eventsUrl: (id: string) => `${base(id)}/events`,
  exportUrl: (id: string, format: "csv" | "json") => `${base(id)}/export?format=${format}`,
};
