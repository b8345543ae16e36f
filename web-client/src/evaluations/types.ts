/** The shapes of the evaluation API (#23): `POST /evaluations`, `GET /evaluations`,
 * `GET /evaluations/<id>`, `GET /evaluations/<id>/documents/<name>`. */

export type EvaluationStatus = "queued" | "running" | "done" | "cancelled" | "failed";

export interface Scores {
  cer: number | null;
  wer: number | null;
  word_f1: number | null;
}

export interface BackendProgress {
  done: number;
  total: number;
  failed: number;
}

export interface EvaluationDocument {
  name: string;
  kind: string | null;
  pages: number | null;
}

export interface EvaluationResult extends Scores {
  document: string;
  kind: string | null;
  backend: string;
  pages: number | null;
  seconds: number | null;
  seconds_per_page: number | null;
  error: string | { code?: string; message?: string } | null;
}

export interface KindScores extends Scores {
  documents: number;
}

export interface LeaderboardRow extends Scores {
  backend: string;
  documents: number;
  failed: number;
  macro: Scores;
  pages_per_second: number | null;
  by_kind: Record<string, KindScores>;
}

export interface Evaluation {
  id: string;
  status: EvaluationStatus;
  created: string | number | null;
  finished?: string | number | null;
  backends: string[];
  normalization: Record<string, boolean>;
  documents: EvaluationDocument[];
  progress: Record<string, BackendProgress>;
  results: EvaluationResult[];
  leaderboard: LeaderboardRow[];
  error?: unknown;
}

export interface EvaluationSummary {
  id: string;
  status: EvaluationStatus;
  created: string | number | null;
  backends: string[];
  /** The number of documents (or their list, as some answers give it). */
  documents: number | EvaluationDocument[];
  progress: Record<string, BackendProgress>;
}

export interface EvaluationAccepted {
  id: string;
  status: EvaluationStatus;
  url: string;
}

export interface DocumentBackendResult extends Scores {
  markdown: string;
  pages: number | null;
}

export interface DocumentDetail {
  name: string;
  kind: string | null;
  reference: string;
  results: Record<string, DocumentBackendResult>;
}

export const FINAL_EVALUATION_STATUSES: ReadonlySet<EvaluationStatus> = new Set(["done", "cancelled", "failed"]);
