/** Server-sent events read with fetch (not EventSource): a time limit on silence, an abort, and a
 * resume from the last event id after a dropped connection. The orchestrator sends a comment every
 * 15 s on a quiet stream, so silence longer than `idleMs` means the connection is gone. */
import { authHeaders } from "./api_key";

export interface SSEEvent {
  id: string | null;
  event: string;
  data: string;
}

/** Incremental parser of the text/event-stream format: feed chunks, get whole events. */
export class SSEParser {
  private buffer = "";
  private id: string | null = null;
  private event = "";
  private data: string[] = [];

  feed(chunk: string): SSEEvent[] {
    this.buffer += chunk;
    const events: SSEEvent[] = [];
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith("\r\n", newline) ? 2 : 1;
      this.buffer = this.buffer.slice(newline + width);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SSEEvent | null {
    if (line === "") {
      if (this.data.length === 0 && !this.event) return null;
      const event = { id: this.id, event: this.event || "message", data: this.data.join("\n") };
      this.event = "";
      this.data = [];
      return event;
    }
    if (line.startsWith(":")) return null; // a comment (keep-alive)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id") this.id = value;
    return null;
  }
}

export interface StreamOptions {
  signal: AbortSignal;
  idleMs?: number;
  retries?: number;
  fetchImpl?: typeof fetch;
}

/** Calls `onEvent` for each event until the stream sends `end`, the signal aborts, or the
 * connection fails `retries` times in a row (then it throws). */
export async function readEvents(url: string, onEvent: (event: SSEEvent) => void, options: StreamOptions): Promise<void> {
  const doFetch = options.fetchImpl ?? fetch;
  const idleMs = options.idleMs ?? 45_000;
  let lastId: string | null = null;
  let failures = 0;
  for (;;) {
    if (options.signal.aborted) return;
    const controller = new AbortController();
    const abort = () => controller.abort();
    options.signal.addEventListener("abort", abort);
    let timer = setTimeout(abort, idleMs);
    try {
      const headers: Record<string, string> = { ...authHeaders(), Accept: "text/event-stream" };
      if (lastId) headers["Last-Event-ID"] = lastId;
      const response = await doFetch(url, { headers, signal: controller.signal });
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SSEParser();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream closed before the job ended");
        clearTimeout(timer);
        timer = setTimeout(abort, idleMs);
        failures = 0;
        for (const event of parser.feed(decoder.decode(value, { stream: true }))) {
          if (event.id) lastId = event.id;
          if (event.event === "end") return;
          onEvent(event);
        }
      }
    } catch (error) {
      if (options.signal.aborted) return;
      failures += 1;
      if (failures > (options.retries ?? 3)) throw new Error(`the job's event stream failed: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
      options.signal.removeEventListener("abort", abort);
    }
  }
}
