/** A job as the page shows it, built from its server-sent events (pure, so it is unit-tested). */
import type { JobError, JobStatus, Page } from "./types";
import type { SSEEvent } from "./sse";

export interface BackendProgress {
  done: number;
  total: number | null;
}

export interface JobView {
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  progress: Record<string, BackendProgress>;
  /** Finished pages per backend, in page order: the only place a job's pages are (its final
   * `result` carries none); from the page events, then the job's own top-level `pages`. */
  pages: Record<string, Page[]>;
  error: JobError | null;
}

export const FINAL_STATUSES = new Set(["succeeded", "failed", "cancelled"]);

export function newJobView(backends: string[]): JobView {
  return {
    status: "queued",
    progress: Object.fromEntries(backends.map((name) => [name, { done: 0, total: null }])),
    pages: Object.fromEntries(backends.map((name) => [name, []])),
    error: null,
  };
}

export function applyJobEvent(view: JobView, event: SSEEvent): JobView {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(event.data);
  } catch {
    return view;
  }
  const backend = typeof data.backend === "string" ? data.backend : null;
  switch (event.event) {
    case "status":
      if (FINAL_STATUSES.has(view.status)) return view;
      return { ...view, status: data.status as JobView["status"], error: (data.error as JobView["error"]) ?? view.error };
    case "progress":
      if (!backend) return view;
      return {
        ...view,
        progress: {
          ...view.progress,
          [backend]: { done: Number(data.pages_done ?? 0), total: data.pages_total == null ? null : Number(data.pages_total) },
        },
      };
    case "page": {
      if (!backend) return view;
      const page = data.page as Page;
      return { ...view, pages: { ...view.pages, [backend]: mergePages(view.pages[backend] ?? [], [page]) } };
    }
    default:
      return view;
  }
}

/** Pages by page number, in page order; a page in ``newer`` replaces the one of the same number. */
export function mergePages(older: Page[], newer: Page[]): Page[] {
  const byNumber = new Map(older.map((page) => [page.page, page]));
  for (const page of newer) byNumber.set(page.page, page);
  return [...byNumber.values()].sort((a, b) => a.page - b.page);
}

/** The view once the job's status (GET or DELETE /jobs/<id>) is in: its status and error, and its
 * top-level pages per backend (every page, also one whose event was missed). */
export function applyJobStatus(view: JobView, status: JobStatus): JobView {
  const pages = { ...view.pages };
  for (const [backend, list] of Object.entries(status.pages ?? {})) {
    if (list?.length) pages[backend] = mergePages(pages[backend] ?? [], list);
  }
  // Each backend's pages done of its total, as the server counts them (a job opened by its id has
  // seen no progress event yet).
  const progress = { ...view.progress };
  for (const [backend, counts] of Object.entries(status.progress?.backends ?? {})) {
    const { pages_done: done, pages_total: total } = (counts ?? {}) as { pages_done?: unknown; pages_total?: unknown };
    if (typeof done === "number") progress[backend] = { done, total: typeof total === "number" ? total : null };
  }
  return { ...view, status: status.status, error: status.error ?? view.error, pages, progress };
}

/** 0–100, or null while the page count is not known yet. */
export function percent(progress: BackendProgress): number | null {
  if (progress.total == null) return null;
  if (progress.total === 0) return 100;
  return Math.min(100, Math.round((progress.done / progress.total) * 100));
}
