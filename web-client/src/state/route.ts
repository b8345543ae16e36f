/** What the page's address names: a view (``#single``, ``#compare``) or a job (``#/jobs/<id>``), and
 * the job each view showed last (kept in the tab's sessionStorage, so that after a reload the other
 * view still has its own). Pure, so it is unit-tested; App.tsx wires it to the address bar. */
export type ViewName = "single" | "compare";
export type Route = { view: ViewName } | { job: string };

/** A job id as the orchestrator makes them (uuid hex); anything else in a job URL is not one. */
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;
const JOB_HASH = /^#\/jobs\/([^/?#]+)\/?$/;

export function parseHash(hash: string): Route {
  const job = JOB_HASH.exec(hash)?.[1];
  if (job) {
    const id = decodeURIComponent(job);
    if (JOB_ID.test(id)) return { job: id };
  }
  return { view: hash === "#compare" ? "compare" : "single" };
}

/** The Evaluations view's addresses (``#/evaluations…``, its own routes: src/evaluations/logic.ts):
 * no job view's, so the job routing leaves them alone. */
export const isEvaluationsHash = (hash: string): boolean => hash.startsWith("#/evaluations");

export const jobHash = (jobId: string): string => `#/jobs/${encodeURIComponent(jobId)}`;
export const viewHash = (view: ViewName): string => `#${view}`;

/** The view a job is shown in: a comparison job in Compare, one backend's in Single run. */
export const viewOfKind = (kind: string): ViewName => (kind === "compare" ? "compare" : "single");

export type ViewJobs = Record<ViewName, string | null>;
export const NO_JOBS: ViewJobs = { single: null, compare: null };
const STORAGE_KEY = "ocr-service.view-jobs";

export function loadViewJobs(): ViewJobs {
  try {
    const stored = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) ?? "null") as Partial<ViewJobs> | null;
    const valid = (value: unknown) => (typeof value === "string" && JOB_ID.test(value) ? value : null);
    return { single: valid(stored?.single), compare: valid(stored?.compare) };
  } catch {
    return NO_JOBS;
  }
}

export function saveViewJobs(jobs: ViewJobs): void {
  try {
    window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(jobs));
  } catch {
    // storage refused: the address bar still names the job shown
  }
}

/** Where a view's link goes: to the job it shows (its URL), else to the view. */
export const viewLink = (view: ViewName, jobs: ViewJobs): string => {
  const job = jobs[view];
  return job ? jobHash(job) : viewHash(view);
};
