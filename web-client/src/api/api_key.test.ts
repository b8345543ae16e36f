import { afterEach, describe, expect, it, vi } from "vitest";
import { API_KEY_HEADER, onApiKeyChange, setApiKey } from "./api_key";
import { requestJson } from "./client";
import { readEvents } from "./sse";

function recorder(response: () => Response) {
  const calls: Headers[] = [];
  const fetchImpl = vi.fn(async (_url: string, init: RequestInit) => {
    calls.push(new Headers(init.headers));
    return response();
  }) as unknown as typeof fetch;
  return { calls, fetchImpl };
}

const endStream = () => new Response("event: end\ndata: {}\n\n", { status: 200, headers: { "Content-Type": "text/event-stream" } });

afterEach(() => setApiKey(""));

describe("the API key", () => {
  it("is sent on API calls once set, and not before", async () => {
    const { calls, fetchImpl } = recorder(() => new Response("{}", { status: 200 }));
    await requestJson("/backends", { method: "GET" }, { fetchImpl });
    setApiKey("  s3cret ");
    await requestJson("/ocr", { method: "POST", headers: { "X-Other": "1" } }, { fetchImpl });
    expect(calls[0].has(API_KEY_HEADER)).toBe(false);
    expect(calls[1].get(API_KEY_HEADER)).toBe("s3cret");
    expect(calls[1].get("X-Other")).toBe("1");
    expect(window.sessionStorage.getItem("ocr-service.api-key")).toBe("s3cret");
  });

  it("is sent by the job event reader too", async () => {
    setApiKey("s3cret");
    const { calls, fetchImpl } = recorder(endStream);
    await readEvents("/jobs/1/events", () => undefined, { signal: new AbortController().signal, fetchImpl });
    expect(calls[0].get(API_KEY_HEADER)).toBe("s3cret");
    expect(calls[0].get("Accept")).toBe("text/event-stream");
  });

  it("a cleared key is no longer sent nor stored, and listeners hear every change", async () => {
    const heard = vi.fn();
    const stop = onApiKeyChange(heard);
    setApiKey("s3cret");
    setApiKey("");
    stop();
    setApiKey("again");
    expect(heard).toHaveBeenCalledTimes(2);
    setApiKey("");
    const { calls, fetchImpl } = recorder(() => new Response("{}", { status: 200 }));
    await requestJson("/backends", {}, { fetchImpl });
    expect(calls[0].has(API_KEY_HEADER)).toBe(false);
    expect(window.sessionStorage.getItem("ocr-service.api-key")).toBeNull();
  });

  it("a 401 is an error with the unauthorized code", async () => {
    const { fetchImpl } = recorder(() => new Response(JSON.stringify({ success: false, error: { code: "unauthorized", message: "a valid API key is required" } }), { status: 401 }));
    await expect(requestJson("/backends", {}, { fetchImpl })).rejects.toMatchObject({ code: "unauthorized", status: 401 });
  });
});
