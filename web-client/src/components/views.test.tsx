import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BackendStatus, Page } from "../api/types";
import type { ChosenFile } from "./common";
import { CompareView } from "./CompareView";
import { SingleView } from "./SingleView";

// jsdom has no object URLs: each blob gets a name, so a test can tell which image is drawn.
let blobs = 0;
beforeEach(() => {
  blobs = 0;
  URL.createObjectURL = vi.fn(() => `blob:made-${++blobs}`);
  URL.revokeObjectURL = vi.fn();
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const backend = (name: string): BackendStatus => ({ name, url: "", status: "healthy", model: `${name}-model`, reason: null, checked_at: null });

const page = (number: number, markdown: string, warnings: string[] = []): Page => ({
  page: number, width: 100 * number, height: 50, markdown, warnings,
  blocks: [{ type: "text", bbox: [1, 1, 20, 10], text: markdown, score: 0.9 }],
});

const pdf: ChosenFile = { file: new File(["%PDF-1.4"], "doc.pdf", { type: "application/pdf" }), isPdf: true, url: "blob:doc" };

/** A finished result as a job's final status carries it: no pages. */
const finished = (name: string, markdown: string) => ({
  success: true, backend: name, model: `${name}-model`, request_id: "r", image_name: "doc.pdf", document_type: "pdf",
  raw_result: {}, markdown, source_markdown: markdown, boxes_image: null, processing_time: 2.5, timings: {},
  warnings: ["document: mixed scripts"],
});

function sse(text: string): Response {
  return new Response(new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  }));
}

/** The job's final status: every page at the top level, a result without pages. */
function finalStatus(pages: Record<string, Page[]>, result: unknown, kind: "ocr" | "compare", status = "succeeded") {
  return {
    success: true, job_id: "j", kind, status, backends: Object.keys(pages), image_name: "doc.pdf",
    progress: { pages_done: 4, pages_total: 4, backends: {} }, pages, result,
    created_at: "2025-01-01T00:00:00Z", updated_at: "2025-01-01T00:00:01Z",
    status_url: "/jobs/j", events_url: "/jobs/j/events",
  };
}

/** POST a job, its events (page 1 of each backend only), then its final status with every page at
 * the top level and a result without pages; a page's image is a PNG. Returns the URLs asked for. */
function stubJob(pages: Record<string, Page[]>, result: unknown, kind: "ocr" | "compare"): string[] {
  const asked: string[] = [];
  vi.stubGlobal("fetch", vi.fn(async (url: string, init: RequestInit = {}) => {
    asked.push(`${init.method ?? "GET"} ${url}`);
    if (url === "/jobs" || url === "/jobs/compare") {
      return new Response(JSON.stringify({ success: true, job_id: "j", status: "queued", status_url: "/jobs/j", events_url: "/jobs/j/events" }), { status: 202 });
    }
    if (url.endsWith("/events")) {
      const events = Object.entries(pages).map(([name, list]) => `event: page\ndata: ${JSON.stringify({ backend: name, page: list[0] })}\n\n`);
      return sse(`${events.join("")}event: status\ndata: {"status": "succeeded"}\n\nevent: end\ndata: {}\n\n`);
    }
    if (url.endsWith("/image")) return new Response(new Blob(["\x89PNG"], { type: "image/png" }));
    return new Response(JSON.stringify(finalStatus(pages, result, kind)));
  }));
  return asked;
}

describe("a finished job whose result has no pages", () => {
  it("SingleView shows every page of the job, with the result's markdown and time", async () => {
    const pages = { rapidocr: [page(1, "one"), page(2, "two", ["low contrast"])] };
    stubJob(pages, finished("rapidocr", "one\n\n---\n\ntwo"), "ocr");
    render(<SingleView chosen={pdf} backends={[backend("rapidocr")]} defaultName="rapidocr" />);
    fireEvent.click(screen.getByTestId("run"));
    await waitFor(() => expect(screen.getByTestId("time-rapidocr").textContent).toBe("2.50 s"));
    expect(screen.getByTestId("page-picker").textContent).toContain("page 1 of 2");
    fireEvent.click(screen.getByText("›"));
    expect(screen.getByRole("img").getAttribute("aria-label")).toBe("page 2 with boxes");
    expect(screen.getByTestId("rendered-markdown").textContent).toContain("two");
    const warnings = within(screen.getByTestId("warnings-rapidocr")).getAllByRole("listitem").map((item) => item.textContent);
    expect(warnings).toEqual(["document: mixed scripts", "page 2: low contrast"]);
    fireEvent.click(screen.getByRole("tab", { name: "JSON" }));
    expect(JSON.parse(screen.getByTestId("tab-json").textContent ?? "").pages.map((p: Page) => p.page)).toEqual([1, 2]);
  });

  it("CompareView shows every page of every backend", async () => {
    const pages = { a: [page(1, "a1"), page(2, "a2")], b: [page(1, "b1"), page(2, "b2")] };
    stubJob(pages, {
      success: true, comparison: true, request_id: "r", document_type: "pdf", backends: ["a", "b"],
      results: { a: finished("a", "a1\n\n---\n\na2"), b: finished("b", "b1\n\n---\n\nb2") },
      times: { a: 1, b: 2 }, agreement: [{ backends: ["a", "b"], agreement: 0.5 }],
    }, "compare");
    render(<CompareView chosen={pdf} backends={[backend("a"), backend("b")]} />);
    fireEvent.click(screen.getByTestId("run-compare"));
    await waitFor(() => expect(screen.getByTestId("scores")).toBeTruthy());
    expect(screen.getByTestId("page-picker").textContent).toContain("page 1 of 2");
    fireEvent.click(screen.getByText("›"));
    expect(screen.getByRole("img").getAttribute("aria-label")).toBe("page 2 with boxes");
    expect(screen.getByTestId("boxes-a").getAttribute("viewBox")).toBe("0 0 200 50");
    expect(screen.getByTestId("boxes-b").querySelector("title")?.textContent).toBe("b · text: b2");
    for (const name of ["a", "b"]) {
      const pane = screen.getByTestId(`pane-${name}`);
      expect(within(pane).getByTestId("rendered-markdown").textContent).toContain(`${name}2`);
      expect(within(pane).getByTestId("warnings-" + name).textContent).toContain("document: mixed scripts");
    }
  });
});

/** A loaded CI machine renders slowly: more than waitFor's default second. */
const SLOW = { timeout: 10_000 };

describe("every run is a job", () => {
  const image: ChosenFile = { file: new File(["\x89PNG"], "scan.png", { type: "image/png" }), isPdf: false, url: "blob:scan" };
  const one = { rapidocr: [page(1, "Total $5")] };

  /** A job that runs until it is cancelled (DELETE), then says so. */
  function stubRunningJob() {
    let cancelled = false;
    vi.stubGlobal("fetch", vi.fn((url: string, init: RequestInit = {}) => {
      if (url === "/jobs") {
        return Promise.resolve(new Response(JSON.stringify({ success: true, job_id: "j", status: "queued", status_url: "/jobs/j", events_url: "/jobs/j/events" }), { status: 202 }));
      }
      if (url.endsWith("/events")) {
        return new Promise((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
      }
      if (init.method === "DELETE") cancelled = true;
      return Promise.resolve(new Response(JSON.stringify(finalStatus({ rapidocr: [] }, undefined, "ocr", cancelled ? "cancelled" : "running"))));
    }));
  }

  it("Cancel is a note, not an error; the title says so; focus stays on Run", { timeout: 30_000 }, async () => {
    stubRunningJob();
    render(<SingleView chosen={image} backends={[backend("rapidocr")]} defaultName="rapidocr" />);
    const run = screen.getByTestId("run");
    run.focus();
    fireEvent.click(run);
    await waitFor(() => expect(document.title).toBe("scan.png · running… — OCR service"), SLOW);
    expect(run.hasAttribute("disabled")).toBe(false);
    expect(run.getAttribute("aria-disabled")).toBe("true");
    expect(screen.getByTestId("live-status").textContent).toBe("Running rapidocr…");
    await waitFor(() => expect(screen.getByTestId("cancel")).toBeTruthy(), SLOW);
    fireEvent.click(screen.getByTestId("cancel"));
    await waitFor(() => expect(screen.getByTestId("stopped")).toBeTruthy(), SLOW);
    expect(screen.queryByRole("alert")).toBeNull();
    expect(screen.getByTestId("job-status").textContent).toBe("job cancelled");
    expect(document.title).toBe("scan.png · stopped — OCR service");
    expect(document.activeElement).toBe(screen.getByTestId("run"));
  });

  it("an image runs as a job: the result is announced, the file named in the title, the job reported", { timeout: 30_000 }, async () => {
    const asked = stubJob(one, { ...finished("rapidocr", "Total $5"), document_type: "image" }, "ocr");
    const reported: string[] = [];
    render(<SingleView chosen={image} backends={[backend("rapidocr")]} defaultName="rapidocr" onJob={(id) => reported.push(id)} />);
    fireEvent.click(screen.getByTestId("run"));
    await waitFor(() => expect(screen.getByTestId("live-status").textContent).toBe("Result from rapidocr ready: 1 page."), SLOW);
    expect(document.title).toBe("scan.png · done — OCR service");
    expect(screen.getByTestId("rendered-markdown").textContent).toContain("Total $5");
    expect(reported).toEqual(["j"]);
    expect(asked[0]).toBe("POST /jobs");
  });

  it("the boxes are drawn over the server's clean page image, not a backend's annotated one", { timeout: 30_000 }, async () => {
    const annotated = { ...page(1, "Total $5"), boxes_image: "data:image/png;base64,AAAA" };
    const asked = stubJob({ rapidocr: [annotated] }, { ...finished("rapidocr", "Total $5"), document_type: "image" }, "ocr");
    render(<SingleView chosen={image} backends={[backend("rapidocr")]} defaultName="rapidocr" />);
    fireEvent.click(screen.getByTestId("run"));
    await waitFor(() => expect(screen.getByTestId("page-image").getAttribute("href")).toMatch(/^blob:made-/), SLOW);
    expect(asked).toContain("GET /jobs/j/pages/1/image");
    expect(screen.getAllByTestId("box")).toHaveLength(1);
    const sent = (vi.mocked(fetch).mock.calls.find(([url]) => url === "/jobs")?.[1]?.body as FormData);
    expect(sent.get("boxes_image")).toBe("false");
  });

  it("a job named by the URL is shown from the server without a file or a run", { timeout: 30_000 }, async () => {
    const asked = stubJob(one, { ...finished("rapidocr", "Total $5"), document_type: "image" }, "ocr");
    render(<SingleView chosen={null} backends={[backend("rapidocr")]} defaultName="rapidocr" jobId="j" />);
    await waitFor(() => expect(screen.getByTestId("rendered-markdown").textContent).toContain("Total $5"), SLOW);
    expect(asked.filter((call) => call.startsWith("POST"))).toEqual([]);
    expect(screen.getByTestId("job-status").textContent).toBe("job succeeded");
    expect(document.title).toBe("doc.pdf · done — OCR service");
    expect((screen.getByTestId("run") as HTMLButtonElement).disabled).toBe(true);
  });

  it("a comparison job named by the URL shows every pane and the scores", { timeout: 30_000 }, async () => {
    const pages = { a: [page(1, "a1")], b: [page(1, "b1")] };
    stubJob(pages, {
      success: true, comparison: true, request_id: "r", document_type: "image", backends: ["a", "b"],
      results: { a: finished("a", "a1"), b: finished("b", "b1") }, times: { a: 1, b: 2 }, agreement: [],
    }, "compare");
    render(<CompareView chosen={null} backends={[backend("a"), backend("b")]} jobId="j" />);
    await waitFor(() => expect(screen.getByTestId("scores")).toBeTruthy(), SLOW);
    expect(within(screen.getByTestId("pane-b")).getByTestId("rendered-markdown").textContent).toContain("b1");
    await waitFor(() => expect(screen.getByTestId("page-image").getAttribute("href")).toMatch(/^blob:made-/), SLOW);
  });
});

describe("predictable state", () => {
  const image: ChosenFile = { file: new File(["\x89PNG"], "scan.png", { type: "image/png" }), isPdf: false, url: "blob:scan" };
  const other: ChosenFile = { file: new File(["\x89PNG"], "other.png", { type: "image/png" }), isPdf: false, url: "blob:other" };

  it("names the backend and model of a result, and a new file clears it", async () => {
    stubJob({ rapidocr: [page(1, "Total")] }, { ...finished("rapidocr", "Total"), document_type: "image" }, "ocr");
    const { rerender } = render(<SingleView chosen={image} backends={[backend("rapidocr")]} defaultName="rapidocr" />);
    fireEvent.click(screen.getByTestId("run"));
    await waitFor(() => expect(screen.getByTestId("result-name-rapidocr").textContent).toBe("rapidocr · rapidocr-model"), SLOW);
    rerender(<SingleView chosen={other} backends={[backend("rapidocr")]} defaultName="rapidocr" />);
    expect(screen.queryByTestId("rendered-markdown")).toBeNull();
  });

  it("a backend that goes down stays chosen and is said to be down; nothing runs", () => {
    const { rerender } = render(<SingleView chosen={image} backends={[backend("rapidocr"), backend("tesseract")]} defaultName="rapidocr" />);
    expect((screen.getByTestId("backend-select") as HTMLSelectElement).value).toBe("rapidocr");
    const down = { ...backend("rapidocr"), status: "unreachable" as const, reason: "no answer" };
    rerender(<SingleView chosen={image} backends={[down, backend("tesseract")]} defaultName="rapidocr" />);
    expect((screen.getByTestId("backend-select") as HTMLSelectElement).value).toBe("rapidocr");
    expect(screen.getByTestId("backend-down").textContent).toContain("rapidocr is unreachable (no answer)");
    expect(screen.getByTestId("run").hasAttribute("disabled")).toBe(true);
  });
});

describe("pages by number", () => {
  it("a comparison of pages 2–3 shows page 2 and page 3, every pane's boxes on that page", async () => {
    const pages = { a: [page(2, "a2"), page(3, "a3")], b: [page(3, "b3"), page(2, "b2")] };
    stubJob(pages, {
      success: true, comparison: true, request_id: "r", document_type: "pdf", backends: ["a", "b"],
      results: { a: finished("a", "a2\n\n---\n\na3"), b: finished("b", "b3\n\n---\n\nb2") },
      times: { a: 1, b: 2 }, agreement: [{ backends: ["a", "b"], agreement: 0.5 }],
    }, "compare");
    render(<CompareView chosen={pdf} backends={[backend("a"), backend("b")]} />);
    fireEvent.click(screen.getByTestId("run-compare"));
    await waitFor(() => expect(screen.getByTestId("scores")).toBeTruthy(), SLOW);
    expect(screen.getByTestId("page-picker").textContent).toContain("page 2 (pages 2–3)");
    expect(screen.getByTestId("boxes-a").querySelector("title")?.textContent).toBe("a · text: a2");
    expect(screen.getByTestId("boxes-b").querySelector("title")?.textContent).toBe("b · text: b2");
    fireEvent.click(screen.getByLabelText("next page"));
    expect(screen.getByTestId("page-picker").textContent).toContain("page 3 (pages 2–3)");
    expect(screen.getByTestId("boxes-a").querySelector("title")?.textContent).toBe("a · text: a3");
    expect(screen.getByTestId("boxes-b").querySelector("title")?.textContent).toBe("b · text: b3");
    const current = within(screen.getByTestId("pane-b")).getAllByTestId("page-text").find((section) => section.getAttribute("aria-current") === "page");
    expect(current?.getAttribute("data-page")).toBe("3");
  });
});

describe("page ↔ text", () => {
  const image: ChosenFile = { file: new File(["\x89PNG"], "scan.png", { type: "image/png" }), isPdf: false, url: "blob:scan" };

  it("a click on a box highlights its text; the pointer over text highlights its box; a click on text picks it", async () => {
    const two: Page = {
      page: 1, width: 100, height: 50, markdown: "# Coffee $3.50\n\nBagel $2.25", warnings: [],
      blocks: [{ type: "title", bbox: [1, 1, 20, 10], text: "Coffee $3.50", score: 0.9 }, { type: "text", bbox: [1, 20, 20, 30], text: "Bagel $2.25", score: 0.9 }],
    };
    stubJob({ rapidocr: [two] }, { ...finished("rapidocr", two.markdown), document_type: "image" }, "ocr");
    render(<SingleView chosen={image} backends={[backend("rapidocr")]} defaultName="rapidocr" />);
    fireEvent.click(screen.getByTestId("run"));
    await waitFor(() => expect(screen.getAllByTestId("box")).toHaveLength(2), SLOW);
    const rendered = screen.getByTestId("rendered-markdown");
    fireEvent.click(screen.getAllByTestId("box")[1]);
    expect(rendered.querySelector(".text-linked")?.textContent).toBe("Bagel $2.25");
    expect(screen.getAllByTestId("box")[1].getAttribute("data-selected")).toBe("true");
    fireEvent.mouseOver(rendered.querySelector("h1")!);
    expect(screen.getAllByTestId("box")[0].getAttribute("class")).toContain("box-hovered");
    fireEvent.mouseLeave(rendered);
    expect(screen.getAllByTestId("box")[0].getAttribute("class")).not.toContain("box-hovered");
    fireEvent.click(rendered.querySelector("h1")!);
    expect(screen.getAllByTestId("box")[0].getAttribute("data-selected")).toBe("true");
    expect(rendered.querySelector(".text-linked")?.tagName).toBe("H1");
  });
});
