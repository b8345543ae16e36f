import { describe, expect, it, vi } from "vitest";
import { applyJobEvent, newJobView, percent } from "./job_state";
import { readEvents, SSEParser, type SSEEvent } from "./sse";

describe("SSEParser", () => {
  it("parses events split across chunks, with ids, comments and CRLF", () => {
    const parser = new SSEParser();
    expect(parser.feed("id: 1\nevent: progress\nda")).toEqual([]);
    expect(parser.feed('ta: {"a":1}\n\n: keep-alive\n\nid: 2\r\nevent: page\r\ndata: x\r\ndata: y\r\n\r\n')).toEqual([
      { id: "1", event: "progress", data: '{"a":1}' },
      { id: "2", event: "page", data: "x\ny" },
    ]);
  });
});

function stream(chunks: string[]): Response {
  const encoder = new TextEncoder();
  return new Response(new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  }));
}

describe("readEvents", () => {
  it("resumes after a dropped connection from the last event id and stops at end", async () => {
    const calls: (string | null)[] = [];
    const fetchImpl = vi.fn(async (_url: string, init: RequestInit) => {
      calls.push((init.headers as Record<string, string>)["Last-Event-ID"] ?? null);
      return calls.length === 1
        ? stream(["id: 1\nevent: status\ndata: {}\n\n"]) // drops before the end
        : stream(["id: 2\nevent: progress\ndata: {}\n\n", "event: end\ndata: {}\n\n"]);
    }) as unknown as typeof fetch;
    const seen: SSEEvent[] = [];
    await readEvents("/jobs/1/events", (event) => seen.push(event), { signal: new AbortController().signal, fetchImpl });
    expect(seen.map((event) => event.event)).toEqual(["status", "progress"]);
    expect(calls).toEqual([null, "1"]);
  });

  it("fails after its retries when the stream cannot be had", async () => {
    const fetchImpl = vi.fn(async () => new Response("no", { status: 500 })) as unknown as typeof fetch;
    await expect(readEvents("/x", () => undefined, { signal: new AbortController().signal, fetchImpl, retries: 2 }))
      .rejects.toThrow(/event stream failed/);
    expect(fetchImpl).toHaveBeenCalledTimes(3);
  });
});

describe("job state", () => {
  const page = (n: number) => ({ page: n, width: 10, height: 10, markdown: `p${n}`, blocks: [], warnings: [] });
  const event = (type: string, data: object): SSEEvent => ({ id: null, event: type, data: JSON.stringify(data) });

  it("follows progress and keeps pages in page order as they arrive", () => {
    let view = newJobView(["rapidocr"]);
    expect(percent(view.progress.rapidocr)).toBeNull();
    view = applyJobEvent(view, event("status", { status: "running" }));
    view = applyJobEvent(view, event("progress", { backend: "rapidocr", pages_done: 0, pages_total: 2 }));
    view = applyJobEvent(view, event("page", { backend: "rapidocr", page: page(2) }));
    view = applyJobEvent(view, event("progress", { backend: "rapidocr", pages_done: 1, pages_total: 2 }));
    expect(percent(view.progress.rapidocr)).toBe(50);
    view = applyJobEvent(view, event("page", { backend: "rapidocr", page: page(1) }));
    view = applyJobEvent(view, event("progress", { backend: "rapidocr", pages_done: 2, pages_total: 2 }));
    expect(view.pages.rapidocr.map((p) => p.page)).toEqual([1, 2]);
    expect(percent(view.progress.rapidocr)).toBe(100);
    expect(view.status).toBe("running");
  });

  it("keeps a final status and its error", () => {
    let view = applyJobEvent(newJobView(["a"]), event("status", { status: "failed", error: { code: "backend_unavailable", message: "m", backend: "a" } }));
    view = applyJobEvent(view, event("status", { status: "running" }));
    expect(view.status).toBe("failed");
    expect(view.error?.code).toBe("backend_unavailable");
  });
});
