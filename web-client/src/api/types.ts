/** The orchestrator's JSON under the names the client uses.
 *
 * Every contract shape comes from contract.gen.ts, generated from shared/contract.schema.json
 * (`npm run gen:contract`); nothing here restates one. This file only names them as the client does,
 * derives parts of them, and adds the client's own view types. */
import type {
  BackendStatus,
  ComparisonResult,
  ErrorBody,
  JobComparisonResult,
  JobOcrResult,
  JobStatus as ContractJobStatus,
  OcrResult,
  OcrResultFields,
  Page,
} from "./contract.gen";

export type {
  BackendHealth,
  BackendsList,
  BackendStatus,
  Bbox as BBox,
  Block,
  JobAccepted,
  JobList,
  JobStatus,
  JobSummary,
  OptionField,
  OrchestratorHealth,
  PdfPreview,
  Page,
  ReplicaStatus,
  UploadLimits,
} from "./contract.gen";

/** POST /ocr: one backend's result (with its pages) ... */
export type OCRSuccess = OcrResult;
/** ... or its error. */
export type OCRFailure = ErrorBody;
export type OCRBody = OCRSuccess | OCRFailure;
export type ErrorInfo = OCRFailure["error"];

/** POST /ocr/compare: each backend's result carries its pages. */
export type Comparison = ComparisonResult;
export type Agreement = Comparison["agreement"][number];

/** A finished job's result for one backend: no pages (they are the job's own top-level `pages`). */
export type JobOCRSuccess = JobOcrResult;
/** A finished comparison job's result: its backends' results carry no pages either. */
export type JobComparison = JobComparisonResult;
/** A comparison, synchronous or a job's. */
export type AnyComparison = Comparison | JobComparison;

/** A backend's health as the orchestrator reports it (backend_status.status). */
export type HealthStatus = BackendStatus["status"];

/** A failed job's error (job_status.error). */
export type JobError = NonNullable<ContractJobStatus["error"]>;
/** A finished job's result: one backend's result, or a comparison. */
export type JobResult = NonNullable<ContractJobStatus["result"]>;

/** Everything in a result but its pages: what a finished job's result has, and a synchronous one too. */
export type ResultFields = Omit<OcrResultFields, "pages">;

/** A finished result together with the pages the client shows for it. */
export type ResultWithPages = ResultFields & { pages: Page[] };
