/** What a view is doing, in one word, and how the page says it: in its title (for the tab strip and
 * history) and in a live region (for screen readers). */
export type RunState = "empty" | "ready" | "running" | "done" | "failed" | "stopped";

export interface RunFacts {
  hasFile: boolean;
  running: boolean;
  failed: boolean;
  done: boolean;
  stopped: boolean;
}

export function runState({ hasFile, running, failed, done, stopped }: RunFacts): RunState {
  if (!hasFile) return "empty";
  if (running) return "running";
  if (failed) return "failed";
  if (done) return "done";
  if (stopped) return "stopped";
  return "ready";
}

export const APP_NAME = "OCR service";

const TITLE_WORDS: Record<RunState, string> = {
  empty: "", ready: "ready", running: "running…", done: "done", failed: "error", stopped: "stopped",
};

/** ``receipt.png · done — OCR service``; just the name of the service before a file is chosen. */
export function documentTitle(fileName: string | null, state: RunState): string {
  if (!fileName || state === "empty") return APP_NAME;
  return `${fileName} · ${TITLE_WORDS[state]} — ${APP_NAME}`;
}

/** What a screen reader hears when the state changes (nothing before a run). */
export function announcement(state: RunState, backends: string[], detail = ""): string {
  const who = backends.join(", ");
  switch (state) {
    case "running": return `Running ${who}…`;
    case "done": return `Result from ${who} ready${detail ? `: ${detail}` : ""}.`;
    case "failed": return `${who} failed${detail ? `: ${detail}` : ""}.`;
    case "stopped": return "Job cancelled.";
    default: return "";
  }
}
