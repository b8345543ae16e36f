/** One time per backend. A result from the orchestrator's cache took almost no time now; what is
 * worth knowing is how long the backend took when it ran, which the cached result carries. */
import type { ResultFields } from "../api/types";

export type Timed = Pick<ResultFields, "processing_time" | "cache">;

/** ``wall``: the orchestrator's own seconds for this backend in a comparison (queue and transfer
 * included), when there is one; otherwise the backend's processing time. */
export function timeLabel(result: Timed | null | undefined, wall?: number | null): string | null {
  if (result?.cache?.hit) return `from cache, first run took ${result.processing_time.toFixed(2)} s`;
  const seconds = wall ?? result?.processing_time;
  return seconds == null ? null : `${seconds.toFixed(2)} s`;
}
