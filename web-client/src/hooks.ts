/** State that lives across renders: the backends' health (polled) and a running job (its events). */
import { useCallback, useEffect, useRef, useState } from "react";
import { onApiKeyChange, UNAUTHORIZED } from "./api/api_key";
import { ApiError, api } from "./api/client";
import { applyJobEvent, applyJobStatus, FINAL_STATUSES, newJobView, type JobView } from "./api/job_state";
import { errorOf, type ShownError } from "./errors";
import { readEvents } from "./api/sse";
import type { BackendStatus, JobStatus, UploadLimits } from "./api/types";

export const HEALTH_POLL_MS = 5_000;

/** Codes of a call that got no answer from the orchestrator at all. */
const UNREACHABLE_CODES = new Set(["network_error", "client_timeout", "bad_response"]);

export interface BackendsState {
  backends: BackendStatus[];
  defaultName: string | null;
  error: string | null;
  /** The orchestrator did not answer at all (network error or time limit): nothing can run. */
  offline: boolean;
  /** The server answered 401: it wants an API key, or refused the one given. */
  needsKey: boolean;
}

export function useBackends(): BackendsState {
  const [state, setState] = useState<BackendsState>({ backends: [], defaultName: null, error: null, needsKey: false, offline: false });
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      clearTimeout(timer);
      try {
        const list = await api.backends();
        if (!stopped) setState({ backends: list.backends, defaultName: list.default, error: null, needsKey: false, offline: false });
      } catch (error) {
        const needsKey = error instanceof ApiError && error.code === UNAUTHORIZED;
        const offline = error instanceof ApiError && UNREACHABLE_CODES.has(error.code);
        if (!stopped) {
          setState((old) => ({
            ...old,
            // Unreachable: what the list said last is no longer known (grey lights, nothing to run).
            backends: needsKey ? [] : offline ? old.backends.map((b) => ({ ...b, status: "unknown" })) : old.backends,
            error: offline ? `The OCR service does not answer: ${(error as Error).message}. Trying again every ${HEALTH_POLL_MS / 1000} s.`
              : `backend list: ${(error as Error).message}`,
            needsKey,
            offline,
          }));
        }
      }
      if (!stopped) timer = setTimeout(poll, HEALTH_POLL_MS);
    };
    void poll();
    // A new key: ask again now rather than at the next poll.
    const unsubscribe = onApiKeyChange(() => void poll());
    return () => {
      stopped = true;
      clearTimeout(timer);
      unsubscribe();
    };
  }, []);
  return state;
}

/** The upload limits the orchestrator publishes (``/health``), asked once and again with a new API
 * key; null until known (then only the content is checked before an upload). */
export function useUploadLimits(): UploadLimits | null {
  const [limits, setLimits] = useState<UploadLimits | null>(null);
  useEffect(() => {
    let stopped = false;
    const ask = async () => {
      try {
        const health = await api.health();
        if (!stopped && health.limits) setLimits(health.limits);
      } catch {
        // unreachable or refused: the backend list says so; the server checks every upload anyway
      }
    };
    void ask();
    const unsubscribe = onApiKeyChange(() => void ask());
    return () => {
      stopped = true;
      unsubscribe();
    };
  }, []);
  return limits;
}

export interface JobRun {
  view: JobView | null;
  final: JobStatus | null;
  error: ApiError | Error | null;
  /** Started and not final (nor broken off by an error). */
  running: boolean;
  /** The job's own error (failed), or why following it failed; null when neither. A job's error is
   * named after the backend(s) it ran on (``backend``). */
  shownError: (backend: string) => ShownError | null;
  start: (form: FormData, backends: string[], compare: boolean) => Promise<void>;
  cancel: () => Promise<void>;
  reset: () => void;
}

/** A PDF as a job: progress and pages from its events, the full result once it is final. */
export function useJob(): JobRun {
  const [view, setView] = useState<JobView | null>(null);
  const [final, setFinal] = useState<JobStatus | null>(null);
  const [error, setError] = useState<ApiError | Error | null>(null);
  // statusUrl is null until the job is accepted; a cancel asked for before then is sent at once after.
  const current = useRef<{ statusUrl: string | null; controller: AbortController; cancelAsked: boolean } | null>(null);

  const reset = useCallback(() => {
    current.current?.controller.abort();
    current.current = null;
    setView(null);
    setFinal(null);
    setError(null);
  }, []);

  useEffect(() => () => current.current?.controller.abort(), []);

  const sendCancel = useCallback(async (statusUrl: string) => {
    try {
      const status = await api.cancelJob(statusUrl);
      setView((old) => (old ? applyJobStatus(old, status) : old));
      if (FINAL_STATUSES.has(status.status)) setFinal(status);
    } catch (err) {
      setError(err as Error);
    }
  }, []);

  const start = useCallback(async (form: FormData, backends: string[], compare: boolean) => {
    reset();
    const controller = new AbortController();
    const job = { statusUrl: null as string | null, controller, cancelAsked: false };
    current.current = job;
    setView(newJobView(backends));
    try {
      const accepted = await api.startJob(form, compare, { signal: controller.signal });
      job.statusUrl = accepted.status_url;
      if (job.cancelAsked) void sendCancel(accepted.status_url);
      await readEvents(accepted.events_url, (event) => setView((old) => (old ? applyJobEvent(old, event) : old)), {
        signal: controller.signal,
      });
      if (controller.signal.aborted) return;
      const status = await api.job(accepted.status_url, { signal: controller.signal });
      setFinal(status);
      setView((old) => (old ? applyJobStatus(old, status) : old));
    } catch (err) {
      if (controller.signal.aborted) return;
      // Refused before it was a job (400, 413, 503…): no job, so no job status beside the error.
      if (job.statusUrl == null) setView(null);
      setError(err as Error);
    }
  }, [reset, sendCancel]);

  const cancel = useCallback(async () => {
    const job = current.current;
    if (!job) return;
    job.cancelAsked = true;
    if (job.statusUrl) await sendCancel(job.statusUrl);
  }, [sendCancel]);

  const running = view != null && !FINAL_STATUSES.has(view.status) && !error;
  const shownError = (backend: string): ShownError | null => {
    if (error) return errorOf(error, backend);
    if (view?.error) return { backend, code: view.error.code, message: view.error.message };
    return null;
  };
  return { view, final, error, running, shownError, start, cancel, reset };
}
