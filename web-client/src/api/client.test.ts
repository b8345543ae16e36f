import { describe, expect, it, vi } from "vitest";
import { ApiError, ocrForm, requestJson } from "./client";

function answer(status: number, body: unknown): typeof fetch {
  return vi.fn(async () => new Response(typeof body === "string" ? body : JSON.stringify(body), { status })) as unknown as typeof fetch;
}

describe("requestJson", () => {
  it("returns the JSON of a successful answer", async () => {
    await expect(requestJson("/backends", {}, { fetchImpl: answer(200, { default: "rapidocr", backends: [] }) }))
      .resolves.toEqual({ default: "rapidocr", backends: [] });
  });

  it("turns a contract error into an ApiError naming the backend", async () => {
    const body = { success: false, backend: "mineru", error: { code: "backend_unavailable", message: "backend 'mineru' is not reachable" } };
    const error = await requestJson("/ocr", {}, { fetchImpl: answer(503, body) }).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ backend: "mineru", code: "backend_unavailable", status: 503, message: "backend 'mineru' is not reachable" });
  });

  it("says so when an answer is not JSON (a proxy's HTML page)", async () => {
    const error = await requestJson("/ocr", {}, { fetchImpl: answer(502, "<html>Bad gateway</html>") }).catch((e) => e);
    expect(error).toMatchObject({ code: "bad_response", status: 502 });
  });

  it("gives up after its time limit instead of hanging", async () => {
    const never = vi.fn((_url: string, init: RequestInit) => new Promise<Response>((_resolve, reject) => {
      init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    })) as unknown as typeof fetch;
    const error = await requestJson("/ocr", {}, { fetchImpl: never, timeoutMs: 50 }).catch((e) => e);
    expect(error).toMatchObject({ code: "client_timeout" });
  });

  it("stops at once when its caller aborts", async () => {
    const controller = new AbortController();
    const never = vi.fn((_url: string, init: RequestInit) => new Promise<Response>((_resolve, reject) => {
      init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    })) as unknown as typeof fetch;
    const pending = requestJson("/ocr", {}, { fetchImpl: never, signal: controller.signal, timeoutMs: 60_000 }).catch((e) => e);
    controller.abort();
    expect(await pending).toMatchObject({ code: "cancelled" });
  });

  it("reports a network failure plainly", async () => {
    const down = vi.fn(async () => { throw new TypeError("Failed to fetch"); }) as unknown as typeof fetch;
    expect(await requestJson("/ocr", {}, { fetchImpl: down }).catch((e) => e)).toMatchObject({ code: "network_error" });
  });
});

describe("ocrForm", () => {
  it("sends the file and only the fields that are set", () => {
    const form = ocrForm(new Blob(["x"]), "page.png", { backend: "rapidocr", mode: "", page_range: undefined, pdf_mode: "auto" });
    expect([...form.keys()]).toEqual(["file", "backend", "pdf_mode"]);
    expect((form.get("file") as File).name).toBe("page.png");
  });
});
