import { afterEach, describe, expect, it } from "vitest";
import { applyJobStatus, newJobView } from "../api/job_state";
import type { JobStatus } from "../api/types";
import { pagesLabel } from "../components/RecentJobs";
import { refusal } from "../components/PdfPreview";
import { ApiError } from "../api/client";
import { jobHash, loadViewJobs, NO_JOBS, parseHash, saveViewJobs, viewLink, viewOfKind } from "./route";

afterEach(() => sessionStorage.clear());

describe("the address", () => {
  it("names a view or a job", () => {
    expect(parseHash("")).toEqual({ view: "single" });
    expect(parseHash("#single")).toEqual({ view: "single" });
    expect(parseHash("#compare")).toEqual({ view: "compare" });
    expect(parseHash("#/jobs/0123abcd")).toEqual({ job: "0123abcd" });
    expect(parseHash("#/jobs/0123abcd/")).toEqual({ job: "0123abcd" });
    // Not a job id: the single view, never a request to some other path.
    expect(parseHash("#/jobs/..%2Fhealth")).toEqual({ view: "single" });
    expect(parseHash("#/jobs/")).toEqual({ view: "single" });
    expect(parseHash(jobHash("f00d"))).toEqual({ job: "f00d" });
  });

  it("a comparison job opens in Compare, any other in Single run", () => {
    expect(viewOfKind("compare")).toBe("compare");
    expect(viewOfKind("ocr")).toBe("single");
  });

  it("a view's link goes to the job it shows, else to the view", () => {
    expect(viewLink("compare", { single: "a", compare: null })).toBe("#compare");
    expect(viewLink("single", { single: "a", compare: null })).toBe("#/jobs/a");
  });

  it("each view's job is kept for the tab (a reload, then the other view)", () => {
    expect(loadViewJobs()).toEqual(NO_JOBS);
    saveViewJobs({ single: "a1", compare: "b2" });
    expect(loadViewJobs()).toEqual({ single: "a1", compare: "b2" });
    sessionStorage.setItem("ocr-service.view-jobs", '{"single": "../x", "compare": 3}');
    expect(loadViewJobs()).toEqual(NO_JOBS);
    sessionStorage.setItem("ocr-service.view-jobs", "not json");
    expect(loadViewJobs()).toEqual(NO_JOBS);
  });
});

describe("a job opened by its id", () => {
  it("takes each backend's progress from the job's status", () => {
    const status = {
      success: true, job_id: "j", kind: "compare", status: "running", backends: ["a", "b"], pages: {},
      progress: { pages_done: 3, pages_total: null, backends: { a: { pages_done: 2, pages_total: 4 }, b: { pages_done: 1, pages_total: null } } },
      created_at: "", updated_at: "",
    } as JobStatus;
    const view = applyJobStatus(newJobView(["a", "b"]), status);
    expect(view.progress).toEqual({ a: { done: 2, total: 4 }, b: { done: 1, total: null } });
    expect(view.status).toBe("running");
  });
});

describe("the recent jobs list and the PDF preview", () => {
  it("says how far a job got, a comparison's pages once", () => {
    const one = { kind: "ocr" as const, backends: ["a"] };
    expect(pagesLabel({ ...one, status: "succeeded", progress: { pages_done: 3, pages_total: 3 } })).toBe("3 pages");
    expect(pagesLabel({ ...one, status: "running", progress: { pages_done: 1, pages_total: 5 } })).toBe("1 of 5 pages");
    expect(pagesLabel({ ...one, status: "queued", progress: { pages_done: 0, pages_total: null } })).toBe("");
    expect(pagesLabel({ ...one, status: "succeeded", progress: { pages_done: 1, pages_total: 1 } })).toBe("1 page");
    const two = { kind: "compare" as const, backends: ["a", "b"] };
    expect(pagesLabel({ ...two, status: "succeeded", progress: { pages_done: 2, pages_total: 2 } })).toBe("1 page");
    expect(pagesLabel({ ...two, status: "running", progress: { pages_done: 3, pages_total: 8 } })).toBe("1 of 4 pages");
  });

  it("a preview refused for the document stops the run; a busy server does not", () => {
    expect(refusal(new ApiError("the PDF has 300 pages; the limit is 200", "too_many_pages", 413)))
      .toBe("The server refuses this PDF: the PDF has 300 pages; the limit is 200");
    expect(refusal(new ApiError("cannot read the PDF", "corrupt_file", 422))).toContain("cannot read");
    expect(refusal(new ApiError("busy", "overloaded", 503))).toBeNull();
    expect(refusal(new Error("network"))).toBeNull();
  });
});
