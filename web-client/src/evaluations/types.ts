/** The evaluation API's shapes (#23) under the names the view uses. Every one comes from
 * contract.gen.ts (generated from shared/contract.schema.json); nothing here restates one. */
import type {
  Evaluation,
  EvaluationDocument,
  EvaluationLeader,
  EvaluationProgress,
} from "../api/contract.gen";

export type { Evaluation, EvaluationAccepted, EvaluationList, EvaluationResult, EvaluationSummary } from "../api/contract.gen";

export type EvaluationStatus = Evaluation["status"];
/** One backend's row of the leaderboard. */
export type LeaderboardRow = EvaluationLeader;
/** One backend's documents done, failed and total. */
export type BackendProgress = NonNullable<EvaluationProgress[string]>;
/** `GET /evaluations/<id>/documents/<name>`: the reference and each backend's text and scores. */
export type DocumentDetail = EvaluationDocument;
export type DocumentBackendResult = NonNullable<DocumentDetail["results"][string]>;

export const FINAL_EVALUATION_STATUSES: ReadonlySet<EvaluationStatus> = new Set(["done", "cancelled", "failed"]);
