import { act, renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setApiKey } from "./api/api_key";
import { useBackends, useJob } from "./hooks";

afterEach(() => {
  vi.unstubAllGlobals();
  setApiKey("");
});

function sse(text: string): Response {
  return new Response(new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  }));
}

describe("useJob", () => {
  it("sends a cancel asked for before the job was accepted, and ends on the final status", async () => {
    let accept: (response: Response) => void = () => undefined;
    const calls: string[] = [];
    vi.stubGlobal("fetch", vi.fn((url: string, init: RequestInit = {}) => {
      calls.push(`${init.method ?? "GET"} ${url}`);
      if (url === "/jobs") return new Promise<Response>((resolve) => { accept = resolve; });
      if (url.endsWith("/events")) {
        return Promise.resolve(sse('id: 1\nevent: status\ndata: {"status": "cancelled"}\n\nevent: end\ndata: {}\n\n'));
      }
      return Promise.resolve(new Response(JSON.stringify({ job_id: "j", status: "cancelled", kind: "ocr", backends: ["rapidocr"] })));
    }));
    const { result } = renderHook(() => useJob());
    let started: Promise<void> = Promise.resolve();
    act(() => { started = result.current.start(new FormData(), ["rapidocr"], false); });
    await act(async () => { await result.current.cancel(); });
    expect(calls).toEqual(["POST /jobs"]);
    await act(async () => {
      accept(new Response(JSON.stringify({ job_id: "j", status: "queued", status_url: "/jobs/j", events_url: "/jobs/j/events" }), { status: 202 }));
      await started;
    });
    expect(calls).toContain("DELETE /jobs/j");
    await waitFor(() => expect(result.current.view?.status).toBe("cancelled"));
    expect(result.current.final?.status).toBe("cancelled");
  });
});

describe("useBackends", () => {
  it("a 401 means the server needs a key; entering one loads the backends at once", async () => {
    vi.stubGlobal("fetch", vi.fn(async (_url: string, init: RequestInit = {}) => {
      const key = new Headers(init.headers).get("X-API-Key");
      if (key !== "right") {
        return new Response(JSON.stringify({ success: false, error: { code: "unauthorized", message: "a valid API key is required" } }), { status: 401 });
      }
      return new Response(JSON.stringify({ default: "rapidocr", backends: [{ name: "rapidocr", status: "healthy" }] }));
    }));
    const { result } = renderHook(() => useBackends());
    await waitFor(() => expect(result.current.needsKey).toBe(true));
    expect(result.current.backends).toEqual([]);
    act(() => setApiKey("right"));
    await waitFor(() => expect(result.current.needsKey).toBe(false));
    expect(result.current.backends.map((b) => b.name)).toEqual(["rapidocr"]);
    expect(result.current.error).toBeNull();
  });
});

describe("an unreachable orchestrator", () => {
  it("is said, and the last known backends turn grey (unknown) until it answers again", async () => {
    let reachable = true;
    vi.stubGlobal("fetch", vi.fn(async () => {
      if (!reachable) throw new TypeError("Failed to fetch");
      return new Response(JSON.stringify({ default: "rapidocr", backends: [{ name: "rapidocr", status: "healthy" }] }));
    }));
    const { result } = renderHook(() => useBackends());
    await waitFor(() => expect(result.current.backends.map((b) => b.status)).toEqual(["healthy"]), { timeout: 10_000 });
    reachable = false;
    act(() => setApiKey("poke")); // asks again now
    await waitFor(() => expect(result.current.offline).toBe(true), { timeout: 10_000 });
    expect(result.current.backends.map((b) => b.status)).toEqual(["unknown"]);
    expect(result.current.error).toContain("does not answer");
  });
});

describe("a job the server refuses", () => {
  it("leaves no job status beside its error", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({
      success: false, backend: "rapidocr", error: { code: "backend_unavailable", message: "down", retryable: true }, request_id: "r",
    }), { status: 503 })));
    const { result } = renderHook(() => useJob());
    await act(async () => { await result.current.start(new FormData(), ["rapidocr"], false); });
    expect(result.current.view).toBeNull();
    expect(result.current.running).toBe(false);
    expect(result.current.shownError("rapidocr")?.code).toBe("backend_unavailable");
  });
});
