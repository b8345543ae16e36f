import { act, renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { useJob } from "./hooks";

afterEach(() => vi.unstubAllGlobals());

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
