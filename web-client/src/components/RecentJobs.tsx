/** The caller's newest jobs, from the server (GET /jobs: with an API key, that key's own), each a
 * link to its URL (``#/jobs/<id>``): the page shows it from the server, finished or still running. */
import { useEffect, useState } from "react";
import { onApiKeyChange } from "../api/api_key";
import { api } from "../api/client";
import type { JobSummary } from "../api/types";
import { jobHash } from "../state/route";

export const RECENT_JOBS = 10;

/** "3 pages" / "2 of 5 pages" / "" while the count is not known; a comparison's pages once (the
 * server counts each backend's). */
export function pagesLabel(job: Pick<JobSummary, "status" | "progress" | "kind" | "backends">): string {
  const each = job.kind === "compare" ? Math.max(1, job.backends.length) : 1;
  const done = Math.floor(job.progress.pages_done / each);
  const total = job.progress.pages_total == null ? null : Math.round(job.progress.pages_total / each);
  if (total == null) return "";
  if (job.status === "succeeded" || done >= total) return `${total} page${total === 1 ? "" : "s"}`;
  return `${done} of ${total} pages`;
}

/** "14:03" today, else "7 Dec 14:03" (the browser's locale and time zone). */
export function whenLabel(iso: string, now: Date = new Date()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const time = at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  return at.toDateString() === now.toDateString() ? time : `${at.toLocaleDateString(undefined, { day: "numeric", month: "short" })} ${time}`;
}

/** ``refresh``: changes when a job was started or ended here (the list is asked again). */
export function RecentJobs({ current, refresh }: { current: string | null; refresh: unknown }) {
  const [jobs, setJobs] = useState<JobSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [asked, setAsked] = useState(0);

  useEffect(() => onApiKeyChange(() => setAsked((n) => n + 1)), []);
  useEffect(() => {
    const controller = new AbortController();
    api.jobs(RECENT_JOBS, { signal: controller.signal }).then((list) => {
      setJobs(list.jobs);
      setError(null);
    }, (err) => {
      if (!controller.signal.aborted) setError((err as Error).message);
    });
    return () => controller.abort();
  }, [refresh, asked]);

  return (
    <details className="recent-jobs" data-testid="recent-jobs"
      onToggle={(event) => { if ((event.target as HTMLDetailsElement).open) setAsked((n) => n + 1); }}>
      <summary>Recent jobs{jobs ? ` (${jobs.length})` : ""}</summary>
      {error ? <p className="muted">The list could not be loaded: {error}</p> : null}
      {jobs && !jobs.length ? <p className="muted">No jobs yet: every run is one, kept by the server.</p> : null}
      {jobs?.length ? (
        <ul>
          {jobs.map((job) => (
            <li key={job.job_id} data-testid={`recent-${job.job_id}`}>
              <a href={jobHash(job.job_id)} aria-current={job.job_id === current ? "page" : undefined}>
                {job.image_name ?? "document"}
              </a>{" "}
              <span className="muted">
                {job.kind === "compare" ? "compare " : ""}{job.backends.join(", ")} · <span className={`job-${job.status}`}>{job.status}</span>
                {pagesLabel(job) ? ` · ${pagesLabel(job)}` : ""} · {whenLabel(job.created_at)}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </details>
  );
}
