/** The page's address as its state: a job URL shows that job in its view, from the server. */
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "./App";

const page = (text: string) => ({ page: 1, width: 100, height: 50, markdown: text, warnings: [], blocks: [{ type: "text", bbox: [1, 1, 20, 10], text, score: 0.9 }] });
const result = (name: string, text: string) => ({
  success: true, backend: name, model: `${name}-model`, request_id: "r", image_name: "scan.png", document_type: "image",
  raw_result: {}, markdown: text, source_markdown: text, boxes_image: null, processing_time: 1, timings: {}, warnings: [],
});
const healthy = (name: string) => ({ name, url: "", status: "healthy", model: null, reason: null, checked_at: null });
const SLOW = { timeout: 10_000 };

function stubServer(asked: string[]) {
  vi.stubGlobal("fetch", vi.fn(async (url: string, init: RequestInit = {}) => {
    asked.push(`${init.method ?? "GET"} ${url}`);
    if (url === "/backends") return new Response(JSON.stringify({ default: "a", backends: [healthy("a"), healthy("b")] }));
    if (url === "/health") return new Response(JSON.stringify({ status: "ok", backends: {} }));
    if (url.startsWith("/jobs?")) {
      return new Response(JSON.stringify({ success: true, limit: 10, jobs: [{
        job_id: "c1", kind: "compare", status: "succeeded", backends: ["a", "b"], image_name: "scan.png", document_type: "image",
        created_at: "2025-01-01T00:00:00Z", updated_at: "2025-01-01T00:00:01Z", progress: { pages_done: 2, pages_total: 2 }, status_url: "/jobs/c1",
      }] }));
    }
    if (url.endsWith("/image")) return new Response(new Blob(["\x89PNG"], { type: "image/png" }));
    if (url === "/jobs/c1") {
      return new Response(JSON.stringify({
        success: true, job_id: "c1", kind: "compare", status: "succeeded", backends: ["a", "b"], image_name: "scan.png",
        progress: { pages_done: 2, pages_total: 2, backends: {} }, pages: { a: [page("alpha")], b: [page("bravo")] },
        result: { success: true, comparison: true, request_id: "r", document_type: "image", backends: ["a", "b"],
          results: { a: result("a", "alpha"), b: result("b", "bravo") }, times: { a: 1, b: 1 }, agreement: [] },
        created_at: "2025-01-01T00:00:00Z", updated_at: "2025-01-01T00:00:01Z", status_url: "/jobs/c1", events_url: "/jobs/c1/events",
      }));
    }
    return new Response(JSON.stringify({ success: false, error: { code: "job_not_found", message: "no job 'x' (unknown, or its result expired)", retryable: false } }), { status: 404 });
  }));
}

beforeEach(() => {
  URL.createObjectURL = vi.fn(() => "blob:page");
  URL.revokeObjectURL = vi.fn();
  localStorage.setItem("ocr-service.first-run-done", "1");
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStorage.clear();
  localStorage.clear();
  window.history.replaceState(null, "", "#");
});

describe("a job URL", () => {
  it("opens the job in its view from the server, and the recent jobs list names it", async () => {
    window.history.replaceState(null, "", "#/jobs/c1");
    const asked: string[] = [];
    stubServer(asked);
    render(<App />);
    await waitFor(() => expect(screen.getByTestId("compare-view")).toBeTruthy(), SLOW);
    await waitFor(() => expect(within(screen.getByTestId("pane-b")).getByTestId("rendered-markdown").textContent).toContain("bravo"), SLOW);
    expect(screen.getByTestId("nav-compare").getAttribute("href")).toBe("#/jobs/c1");
    expect(screen.getByTestId("nav-single").getAttribute("href")).toBe("#single");
    expect(JSON.parse(sessionStorage.getItem("ocr-service.view-jobs") ?? "{}")).toEqual({ single: null, compare: "c1" });
    await waitFor(() => expect(screen.getByTestId("recent-c1").textContent).toContain("scan.png"), SLOW);
    expect(asked.filter((call) => call.startsWith("POST"))).toEqual([]);
  });

  it("of a job that is not there says so", async () => {
    window.history.replaceState(null, "", "#/jobs/gone");
    stubServer([]);
    render(<App />);
    await waitFor(() => expect(screen.getByTestId("job-not-found").textContent).toContain("unknown, or its result expired"), SLOW);
  });
});
