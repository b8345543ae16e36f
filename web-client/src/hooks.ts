/** State that lives across renders: the backends' health (polled) and a running job (its events). */
import { useCallback, useEffect, useRef, useState } from "react";
import { onApiKeyChange, UNAUTHORIZED } from "./api/api_key";
import { ApiError, api, jobUrl } from "./api/client";
import { applyJobEvent, applyJobStatus, FINAL_STATUSES, newJobView, type JobView } from "./api/job_state";
import { errorOf, type ShownError } from "./errors";
import { readEvents } from "./api/sse";
import type { BackendStatus, JobStatus, UploadLimits } from "./api/types";
import { isEvaluationsHash, jobHash, loadViewJobs, NO_JOBS, parseHash, saveViewJobs, viewHash, viewOfKind, type ViewJobs, type ViewName } from "./state/route";

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
  /** The job shown: started here or opened by its id; null before either. */
  jobId: string | null;
  /** Its backends (those asked for, or the job's own once opened). */
  backends: string[];
  /** Its document's name (the file's, or the job's ``image_name`` once opened). */
  name: string | null;
  view: JobView | null;
  final: JobStatus | null;
  error: ApiError | Error | null;
  /** Started and not final (nor broken off by an error). */
  running: boolean;
  /** Cancelled on the server (by this page or another). */
  cancelled: boolean;
  /** The job's own error (failed), or why following it failed; null when neither. A job's error is
   * named after the backend(s) it ran on (``backend``). */
  shownError: (backend: string) => ShownError | null;
  /** Submit a job and follow it; ``onAccepted`` gets its id as soon as the server took it. */
  start: (form: FormData, backends: string[], compare: boolean, onAccepted?: (jobId: string) => void) => Promise<void>;
  /** Show a job from the server by its id (a job URL, a reload, the recent jobs): its state now, then
   * its events while it runs. */
  open: (jobId: string) => Promise<void>;
  cancel: () => Promise<void>;
  reset: () => void;
}

interface Followed {
  statusUrl: string | null;
  controller: AbortController;
  cancelAsked: boolean;
}

/** A job (every run of the page is one): progress and pages from its events, the full result once
 * it is final. The server keeps it, so a view switch or a reload gets it back by its id. */
export function useJob(): JobRun {
  const [jobId, setJobId] = useState<string | null>(null);
  const [backends, setBackends] = useState<string[]>([]);
  const [name, setName] = useState<string | null>(null);
  const [view, setView] = useState<JobView | null>(null);
  const [final, setFinal] = useState<JobStatus | null>(null);
  const [error, setError] = useState<ApiError | Error | null>(null);
  // statusUrl is null until the job is accepted; a cancel asked for before then is sent at once after.
  const current = useRef<Followed | null>(null);

  const reset = useCallback(() => {
    current.current?.controller.abort();
    current.current = null;
    setJobId(null);
    setBackends([]);
    setName(null);
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

  /** Its events until the end, then its final status (every page, the result). */
  const follow = useCallback(async (job: Followed, statusUrl: string, eventsUrl: string) => {
    const { signal } = job.controller;
    await readEvents(eventsUrl, (event) => setView((old) => (old ? applyJobEvent(old, event) : old)), { signal });
    if (signal.aborted) return;
    const status = await api.job(statusUrl, { signal });
    setFinal(status);
    setView((old) => (old ? applyJobStatus(old, status) : old));
  }, []);

  const start = useCallback(async (form: FormData, names: string[], compare: boolean, onAccepted?: (jobId: string) => void) => {
    reset();
    const controller = new AbortController();
    const job: Followed = { statusUrl: null, controller, cancelAsked: false };
    current.current = job;
    setBackends(names);
    const file = form.get("file");
    setName(file instanceof File ? file.name : null);
    setView(newJobView(names));
    try {
      const accepted = await api.startJob(form, compare, { signal: controller.signal });
      job.statusUrl = accepted.status_url;
      setJobId(accepted.job_id);
      onAccepted?.(accepted.job_id);
      if (job.cancelAsked) void sendCancel(accepted.status_url);
      await follow(job, accepted.status_url, accepted.events_url);
    } catch (err) {
      if (controller.signal.aborted) return;
      // Refused before it was a job (400, 413, 503…): no job, so no job status beside the error.
      if (job.statusUrl == null) setView(null);
      setError(err as Error);
    }
  }, [reset, sendCancel, follow]);

  const open = useCallback(async (id: string) => {
    reset();
    const controller = new AbortController();
    const statusUrl = jobUrl(id);
    const job: Followed = { statusUrl, controller, cancelAsked: false };
    current.current = job;
    setJobId(id);
    try {
      const status = await api.job(statusUrl, { signal: controller.signal });
      setBackends(status.backends);
      setName(status.image_name ?? null);
      setView(applyJobStatus(newJobView(status.backends), status));
      if (FINAL_STATUSES.has(status.status)) {
        setFinal(status);
        return;
      }
      await follow(job, status.status_url ?? statusUrl, status.events_url ?? `${statusUrl}/events`);
    } catch (err) {
      if (controller.signal.aborted) return;
      setError(err as Error);
    }
  }, [reset, follow]);

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
  return {
    jobId, backends, name, view, final, error, running, cancelled: view?.status === "cancelled", shownError, start, open, cancel, reset,
  };
}

/** Show job ``jobId`` (named by the page's URL) from the server, unless it is the one shown already;
 * ``before`` resets what the view showed of the last one. */
export function useJobNamed(job: JobRun, jobId: string | null, before: () => void): void {
  const { jobId: shown, open } = job;
  const reset = useRef(before);
  reset.current = before;
  useEffect(() => {
    if (!jobId || jobId === shown) return;
    reset.current();
    void open(jobId);
  }, [jobId]); // eslint-disable-line react-hooks/exhaustive-deps
}

export interface PageImageState {
  /** An object URL of the page's clean image; null until it is in (or when there is none). */
  url: string | null;
  /** Why there is none (the job kept no document, the page is gone…); null while there is one or it loads. */
  error: ApiError | null;
}

/** Page ``page`` of job ``jobId`` as the orchestrator keeps it (GET /jobs/<id>/pages/<n>/image):
 * fetched with the API key (an <img> could not send it) into an object URL; each page fetched once
 * per job, and every URL revoked when the job changes or the view goes. */
export function usePageImage(jobId: string | null, page: number | null): PageImageState {
  type Held = { jobId: string | null; urls: Map<number, string>; errors: Map<number, ApiError>; pending: Map<number, AbortController> };
  const cache = useRef<Held>({ jobId: null, urls: new Map(), errors: new Map(), pending: new Map() });
  const [, setVersion] = useState(0);

  const drop = (held: Held) => {
    held.pending.forEach((controller) => controller.abort());
    held.urls.forEach((url) => URL.revokeObjectURL(url));
  };
  // Gone (or unmounted and mounted again, as StrictMode does): nothing held, fetched again if shown.
  useEffect(() => () => {
    drop(cache.current);
    cache.current = { jobId: null, urls: new Map(), errors: new Map(), pending: new Map() };
  }, []);

  useEffect(() => {
    if (cache.current.jobId !== jobId) {
      drop(cache.current);
      cache.current = { jobId, urls: new Map(), errors: new Map(), pending: new Map() };
      setVersion((n) => n + 1);
    }
    const held = cache.current;
    if (!jobId || page == null || held.urls.has(page) || held.errors.has(page) || held.pending.has(page)) return;
    const controller = new AbortController();
    held.pending.set(page, controller);
    api.pageImage(jobId, page, { signal: controller.signal }).then((blob) => {
      held.pending.delete(page);
      if (cache.current !== held) return;
      held.urls.set(page, URL.createObjectURL(blob));
      setVersion((n) => n + 1);
    }, (error) => {
      held.pending.delete(page);
      if (controller.signal.aborted || cache.current !== held) return;
      held.errors.set(page, error instanceof ApiError ? error : new ApiError(String(error), "error", null));
      setVersion((n) => n + 1);
    });
  }, [jobId, page]);

  const held = cache.current;
  if (!jobId || page == null || held.jobId !== jobId) return { url: null, error: null };
  return { url: held.urls.get(page) ?? null, error: held.errors.get(page) ?? null };
}

export interface JobRoute {
  view: ViewName;
  /** The job each view shows (null: none): named by the address (``#/jobs/<id>``), by a run, or
   * remembered for the tab from before a reload. */
  jobs: ViewJobs;
  /** A job URL that names no job this key can see (unknown, expired, another key's). */
  routeError: string | null;
  /** A view's run was taken by the server as job ``jobId``: the address names it now. */
  onJob: (jobId: string, view: ViewName) => void;
  /** A new file: no view shows a job any more. */
  onNewFile: () => void;
  /** Changes each time a job is started here (a list of jobs asks the server again). */
  jobNamed: number;
}

/** The page's address as the state of what it shows: ``#single`` / ``#compare`` pick a view (and
 * the job it showed last), ``#/jobs/<id>`` shows that job in its view (a comparison in Compare),
 * asked from the server, so opening it, reloading it or coming back from the other view shows the
 * same job. ``onOpened``: a job was opened that this page did not just start (the file chosen here is
 * not its document). */
export function useJobRoute(onOpened: () => void): JobRoute {
  const initial = parseHash(window.location.hash);
  const [view, setView] = useState<ViewName>("view" in initial ? initial.view : "single");
  const [jobs, setJobs] = useState<ViewJobs>(loadViewJobs);
  const [routeError, setRouteError] = useState<string | null>(null);
  const [jobNamed, setJobNamed] = useState(0);
  const jobsNow = useRef(jobs);
  jobsNow.current = jobs;
  const kinds = useRef(new Map<string, ViewName>());
  const started = useRef(new Set<string>());
  const opened = useRef(onOpened);
  opened.current = onOpened;

  const show = useCallback((jobId: string | null, inView: ViewName) => {
    setView(inView);
    setJobs((old) => {
      const next = { ...old, [inView]: jobId };
      saveViewJobs(next);
      return next;
    });
  }, []);

  useEffect(() => {
    let asking: AbortController | null = null;
    const route = async () => {
      asking?.abort();
      setRouteError(null);
      if (isEvaluationsHash(window.location.hash)) return;
      const named = parseHash(window.location.hash);
      if ("view" in named) {
        setView(named.view);
        // The address names the job the view shows, so that a reload shows it again.
        const shown = jobsNow.current[named.view];
        if (shown) window.history.replaceState(null, "", jobHash(shown));
        return;
      }
      const id = named.job;
      if (!started.current.has(id)) opened.current();
      const known = kinds.current.get(id);
      if (known) {
        show(id, known);
        return;
      }
      const controller = new AbortController();
      asking = controller;
      try {
        const status = await api.job(jobUrl(id), { signal: controller.signal });
        kinds.current.set(id, viewOfKind(status.kind));
        show(id, viewOfKind(status.kind));
      } catch (error) {
        if (controller.signal.aborted) return;
        setRouteError(`This job cannot be shown: ${(error as Error).message}`);
      }
    };
    void route();
    window.addEventListener("hashchange", route);
    // A key given after a job URL was refused (401): ask again.
    const unsubscribe = onApiKeyChange(() => { if ("job" in parseHash(window.location.hash)) void route(); });
    return () => {
      asking?.abort();
      window.removeEventListener("hashchange", route);
      unsubscribe();
    };
  }, [show]);

  const onJob = useCallback((jobId: string, inView: ViewName) => {
    started.current.add(jobId);
    kinds.current.set(jobId, inView);
    show(jobId, inView);
    setJobNamed((n) => n + 1);
    setRouteError(null);
    // Replaced, not pushed: Back leaves the page's state as it was before the run, not this run.
    window.history.replaceState(null, "", jobHash(jobId));
  }, [show]);

  const onNewFile = useCallback(() => {
    setJobs(() => {
      saveViewJobs(NO_JOBS);
      return NO_JOBS;
    });
    setRouteError(null);
    const named = parseHash(window.location.hash);
    if ("job" in named) window.history.replaceState(null, "", viewHash(kinds.current.get(named.job) ?? view));
  }, [view]);

  return { view, jobs, routeError, onJob, onNewFile, jobNamed };
}
