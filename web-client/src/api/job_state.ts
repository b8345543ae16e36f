/** A job as the page shows it, built from its server-sent events (pure, so it is unit-tested). */
import type { ErrorInfo, Page } from "./types";
import type { SSEEvent } from "./sse";

export interface BackendProgress {
  done: number;
  total: number | null;
}

export interface JobView {
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  progress: Record<string, BackendProgress>;
  /** Finished pages per backend, in page order. */
  pages: Record<string, Page[]>;
  error: (ErrorInfo & { backend?: string | null }) | null;
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
      const others = (view.pages[backend] ?? []).filter((p) => p.page !== page.page);
      return { ...view, pages: { ...view.pages, [backend]: [...others, page].sort((a, b) => a.page - b.page) } };
    }
    default:
      return view;
  }
}

/** 0–100, or null while the page count is not known yet. */
export function percent(progress: BackendProgress): number | null {
  if (progress.total == null) return null;
  if (progress.total === 0) return 100;
  return Math.min(100, Math.round((progress.done / progress.total) * 100));
}
