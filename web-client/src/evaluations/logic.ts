/** What the Evaluations view computes from an evaluation: the leaderboard's order, the Pareto front
 * of accuracy against speed, the per-kind breakdown, the worst documents, and how numbers read. */
import type { EvaluationResult, LeaderboardRow } from "./types";

/** The leaderboard's columns, in the order shown. `better` says which way a column improves: the
 * first click on its header sorts the best first. */
export const COLUMNS = [
  { key: "backend", label: "Backend", better: "none" },
  { key: "documents", label: "Documents", better: "higher" },
  { key: "cer", label: "CER", better: "lower" },
  { key: "wer", label: "WER", better: "lower" },
  { key: "word_f1", label: "Word F1", better: "higher" },
  { key: "macro_cer", label: "Macro CER", better: "lower" },
  { key: "macro_wer", label: "Macro WER", better: "lower" },
  { key: "macro_word_f1", label: "Macro word F1", better: "higher" },
  { key: "pages_per_second", label: "Pages/s", better: "higher" },
] as const;

export type ColumnKey = (typeof COLUMNS)[number]["key"];
export type Direction = "ascending" | "descending";
export interface SortOrder {
  key: ColumnKey;
  direction: Direction;
}

/** Best first by CER: the order a leaderboard opens in. */
export const DEFAULT_SORT: SortOrder = { key: "cer", direction: "ascending" };

export function columnValue(row: LeaderboardRow, key: ColumnKey): string | number | null {
  switch (key) {
    case "backend": return row.backend;
    case "documents": return row.documents;
    case "macro_cer": return row.macro?.cer ?? null;
    case "macro_wer": return row.macro?.wer ?? null;
    case "macro_word_f1": return row.macro?.word_f1 ?? null;
    default: return row[key] ?? null;
  }
}

/** The rows in ``order``; rows without a value (every document failed) last either way, and ties by
 * backend name so the order never depends on the server's. */
export function sortRows(rows: readonly LeaderboardRow[], order: SortOrder): LeaderboardRow[] {
  const sign = order.direction === "ascending" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = columnValue(a, order.key);
    const y = columnValue(b, order.key);
    if (x == null || y == null) {
      if (x == null && y != null) return 1;
      if (y == null && x != null) return -1;
    } else if (x !== y) {
      return sign * (typeof x === "string" ? x.localeCompare(String(y)) : (x as number) - (y as number));
    }
    return a.backend.localeCompare(b.backend);
  });
}

/** A click on a column's header: the same column turns around, another starts best first. */
export function nextSort(current: SortOrder, key: ColumnKey): SortOrder {
  if (current.key === key) return { key, direction: current.direction === "ascending" ? "descending" : "ascending" };
  const better = COLUMNS.find((column) => column.key === key)?.better;
  return { key, direction: better === "higher" ? "descending" : "ascending" };
}

/** A backend's point on the chart: accuracy (1 − CER) against pages per second. */
export interface Point {
  backend: string;
  accuracy: number;
  speed: number;
}

export function chartPoints(rows: readonly LeaderboardRow[]): Point[] {
  return rows.flatMap((row) => (row.cer != null && row.pages_per_second != null && Number.isFinite(row.cer) && Number.isFinite(row.pages_per_second)
    ? [{ backend: row.backend, accuracy: Math.max(0, 1 - row.cer), speed: row.pages_per_second }]
    : []));
}

/** The backends no other backend beats on both counts: none is at least as accurate and at least as
 * fast, and better on one of them. Two backends with the same figures are both on the front. */
export function paretoFront(points: readonly Point[]): Set<string> {
  const front = new Set<string>();
  for (const point of points) {
    const dominated = points.some((other) => other !== point
      && other.accuracy >= point.accuracy && other.speed >= point.speed
      && (other.accuracy > point.accuracy || other.speed > point.speed));
    if (!dominated) front.add(point.backend);
  }
  return front;
}

/** A backend's documents, worst first: failed ones first, then by CER, highest first. */
export function worstDocuments(results: readonly EvaluationResult[], backend: string, count = 5): EvaluationResult[] {
  const rank = (result: EvaluationResult) => (result.error ? Number.POSITIVE_INFINITY : result.cer ?? -1);
  return results
    .filter((result) => result.backend === backend)
    .sort((a, b) => rank(b) - rank(a) || a.document.localeCompare(b.document))
    .slice(0, count);
}

export interface KindRow {
  kind: string;
  backend: string;
  documents: number;
  cer: number | null;
  wer: number | null;
  word_f1: number | null;
}

/** The per-kind breakdown: each kind (in name order), each backend in the leaderboard's order. */
export function kindRows(rows: readonly LeaderboardRow[]): KindRow[] {
  const kinds = [...new Set(rows.flatMap((row) => Object.keys(row.by_kind ?? {})))].sort((a, b) => a.localeCompare(b));
  return kinds.flatMap((kind) => rows.flatMap((row) => {
    const scores = row.by_kind?.[kind];
    return scores ? [{ kind, backend: row.backend, documents: scores.documents, cer: scores.cer, wer: scores.wer, word_f1: scores.word_f1 }] : [];
  }));
}

const DASH = "—";

/** A rate (CER, WER, F1) as a percentage with one decimal. */
export function percent(value: number | null | undefined): string {
  return value == null || !Number.isFinite(value) ? DASH : `${(value * 100).toFixed(1)} %`;
}

/** Pages per second: two significant figures below 10, whole above. */
export function rate(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return DASH;
  if (value >= 10) return value.toFixed(0);
  if (value >= 1) return value.toFixed(1);
  return value.toPrecision(2);
}

export function cell(row: LeaderboardRow, key: ColumnKey): string {
  const value = columnValue(row, key);
  if (key === "backend") return String(value);
  if (key === "documents") return row.failed ? `${row.documents} (${row.failed} failed)` : String(row.documents);
  if (key === "pages_per_second") return rate(value as number | null);
  return percent(value as number | null);
}

/** A created/finished time as the server sends it (ISO text or Unix seconds), shown in local time. */
export function when(value: string | number | null | undefined): string {
  if (value == null || value === "") return DASH;
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

/** The error of a failed result as one line. */
export function errorText(error: EvaluationResult["error"]): string {
  return error ? [error.code, error.message].filter(Boolean).join(": ") : "";
}

/** Where the Evaluations view is: the list (and start form), one evaluation, or one of its documents. */
export type EvaluationRoute =
  | { page: "list" }
  | { page: "evaluation"; id: string }
  | { page: "document"; id: string; name: string; backend: string | null };

export const EVALUATIONS_HASH = "#/evaluations";

export function isEvaluationsHash(hash: string): boolean {
  return hash === EVALUATIONS_HASH || hash.startsWith(`${EVALUATIONS_HASH}/`) || hash.startsWith(`${EVALUATIONS_HASH}?`);
}

export function parseRoute(hash: string): EvaluationRoute {
  if (!isEvaluationsHash(hash)) return { page: "list" };
  const [path, query = ""] = hash.slice(EVALUATIONS_HASH.length).split("?");
  const parts = path.split("/").filter(Boolean).map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  if (parts.length === 0) return { page: "list" };
  if (parts.length >= 3 && parts[1] === "documents") {
    const backend = new URLSearchParams(query).get("backend");
    return { page: "document", id: parts[0], name: parts.slice(2).join("/"), backend };
  }
  return { page: "evaluation", id: parts[0] };
}

export function routeHash(route: EvaluationRoute): string {
  if (route.page === "list") return EVALUATIONS_HASH;
  const base = `${EVALUATIONS_HASH}/${encodeURIComponent(route.id)}`;
  if (route.page === "evaluation") return base;
  return `${base}/documents/${encodeURIComponent(route.name)}${route.backend ? `?backend=${encodeURIComponent(route.backend)}` : ""}`;
}
