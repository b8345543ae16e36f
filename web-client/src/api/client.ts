/** The orchestrator's HTTP API. Every call has a time limit (AbortController), so the page never
 * waits forever on a backend or a network that says nothing. */
import { authHeaders } from "./api_key";
import type { BackendsList, Comparison, JobAccepted, JobList, JobStatus, OCRBody, OrchestratorHealth, PdfPreview } from "./types";

export const TIMEOUTS = {
  /** Health and job status: the orchestrator answers these from memory or SQLite. */
  quick: 15_000,
  /** A synchronous OCR: above the orchestrator's own backend read timeout (300 s by default). */
  ocr: 330_000,
};

/** The code of a call the page itself aborted. */
export const CANCELLED = "cancelled";

/** What went wrong, and for which backend when the answer names one. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number | null,
    readonly backend: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface CallOptions {
  timeoutMs?: number;
  /** Aborting it (a cancel button) ends the call at once. */
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
}

function combinedSignal(timeoutMs: number, outer?: AbortSignal): { signal: AbortSignal; timedOut: () => boolean; done: () => void } {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort();
  }, timeoutMs);
  const onOuter = () => controller.abort();
  outer?.addEventListener("abort", onOuter);
  if (outer?.aborted) controller.abort();
  return {
    signal: controller.signal,
    timedOut: () => expired,
    done: () => {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuter);
    },
  };
}

/** A JSON call: error bodies of the contract become an ApiError naming the backend. */
export async function requestJson<T>(url: string, init: RequestInit, options: CallOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? TIMEOUTS.quick;
  const { signal, timedOut, done } = combinedSignal(timeoutMs, options.signal);
  const doFetch = options.fetchImpl ?? fetch;
  let response: Response;
  let text: string;
  try {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(authHeaders())) headers.set(name, value);
    response = await doFetch(url, { ...init, headers, signal });
    text = await response.text();
  } catch (error) {
    if (timedOut()) throw new ApiError(`no answer from the server within ${Math.round(timeoutMs / 1000)} s`, "client_timeout", null);
    if (signal.aborted) throw new ApiError("stopped waiting", CANCELLED, null);
    throw new ApiError(`the server could not be reached (${(error as Error).message})`, "network_error", null);
  } finally {
    done();
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(`HTTP ${response.status}: the answer is not JSON`, "bad_response", response.status);
  }
  if (!response.ok) throw errorFromBody(body, response.status);
  return body as T;
}

/** A binary answer (a page image) as a Blob; an error answer becomes an ApiError as in requestJson. */
export async function requestBlob(url: string, options: CallOptions = {}): Promise<Blob> {
  const timeoutMs = options.timeoutMs ?? TIMEOUTS.ocr;
  const { signal, timedOut, done } = combinedSignal(timeoutMs, options.signal);
  const doFetch = options.fetchImpl ?? fetch;
  try {
    let response: Response;
    try {
      response = await doFetch(url, { method: "GET", headers: authHeaders(), signal });
      if (response.ok) return await response.blob();
    } catch (error) {
      if (timedOut()) throw new ApiError(`no answer from the server within ${Math.round(timeoutMs / 1000)} s`, "client_timeout", null);
      if (signal.aborted) throw new ApiError("stopped waiting", CANCELLED, null);
      throw new ApiError(`the server could not be reached (${(error as Error).message})`, "network_error", null);
    }
    let body: unknown = null;
    try {
      body = JSON.parse(await response.text());
    } catch {
      // not the contract's error shape: the status says enough
    }
    throw errorFromBody(body, response.status);
  } finally {
    done();
  }
}

/** The URL of a job's status and of page ``page``'s clean image (GET /jobs/<id>/pages/<n>/image). */
export const jobUrl = (jobId: string) => `/jobs/${encodeURIComponent(jobId)}`;
export const pageImageUrl = (jobId: string, page: number) => `${jobUrl(jobId)}/pages/${page}/image`;

/** The call was aborted by the page (Stop waiting, a new run): not an error to show. */
export function isStopped(error: unknown): boolean {
  return error instanceof ApiError && error.code === CANCELLED;
}

export function errorFromBody(body: unknown, status: number | null): ApiError {
  const record = (body ?? {}) as { backend?: unknown; error?: { code?: unknown; message?: unknown } };
  const backend = typeof record.backend === "string" ? record.backend : null;
  const code = typeof record.error?.code === "string" ? record.error.code : "error";
  const message = typeof record.error?.message === "string" ? record.error.message : `HTTP ${status}`;
  return new ApiError(message, code, status, backend);
}

/** The form every OCR endpoint reads: the file, backend(s) and the options that are set. */
export function ocrForm(file: Blob, fileName: string, fields: Record<string, string | undefined>): FormData {
  const form = new FormData();
  form.append("file", file, fileName);
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value.trim() !== "") form.append(name, value);
  }
  return form;
}

export const api = {
  backends: (options?: CallOptions) => requestJson<BackendsList>("/backends", { method: "GET" }, options),

  /** The orchestrator's health, with the upload limits it publishes. */
  health: (options?: CallOptions) => requestJson<OrchestratorHealth>("/health", { method: "GET" }, options),

  /** One backend; the answer is the backend's own result or a contract error (thrown). */
  ocr: (form: FormData, options?: CallOptions) =>
    requestJson<OCRBody>("/ocr", { method: "POST", body: form }, { timeoutMs: TIMEOUTS.ocr, ...options }),

  /** Several backends at once: each one's result or error is inside the answer. */
  compare: (form: FormData, options?: CallOptions) =>
    requestJson<Comparison>("/ocr/compare", { method: "POST", body: form }, { timeoutMs: TIMEOUTS.ocr, ...options }),

  startJob: (form: FormData, compare: boolean, options?: CallOptions) =>
    requestJson<JobAccepted>(compare ? "/jobs/compare" : "/jobs", { method: "POST", body: form }, options),

  job: (statusUrl: string, options?: CallOptions) => requestJson<JobStatus>(statusUrl, { method: "GET" }, options),

  cancelJob: (statusUrl: string, options?: CallOptions) => requestJson<JobStatus>(statusUrl, { method: "DELETE" }, options),

  /** The newest jobs (with an API key, that key's own), newest first. */
  jobs: (limit: number, options?: CallOptions) => requestJson<JobList>(`/jobs?limit=${limit}`, { method: "GET" }, options),

  /** Page ``page`` of a job's document as the orchestrator keeps it: clean, no boxes drawn. */
  pageImage: (jobId: string, page: number, options?: CallOptions) => requestBlob(pageImageUrl(jobId, page), options),

  /** A PDF's first pages rendered by the orchestrator (thumbnails), before anything runs. */
  previewPdf: (file: Blob, fileName: string, options?: CallOptions) =>
    requestJson<PdfPreview>("/pdf/preview", { method: "POST", body: ocrForm(file, fileName, {}) }, { timeoutMs: TIMEOUTS.ocr, ...options }),
};
