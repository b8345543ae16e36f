/* eslint-disable */
/**
 * GENERATED FILE, do not edit by hand.
 * Source: shared/contract.schema.json (one type per $defs entry, plus the schema's root).
 * Generator: json-schema-to-typescript, run by web-client/scripts/gen-contract.mjs.
 * Regenerate after changing the schema:  cd web-client && npm run gen:contract
 * (npm test fails while this file and the schema disagree: src/api/contract.test.ts).
 */

/**
 * Every JSON body the orchestrator and the backends return. An OCR call answers with ocr_result or error; /health, /backends answer with their own shapes.
 */
export type OCRServiceContract = OcrResult | ErrorBody;

/**
 * [x1, y1, x2, y2] in the page's own pixels, x1 <= x2, y1 <= y2
 *
 * @minItems 4
 * @maxItems 4
 */
export type Bbox = [number, number, number, number];

export interface Block {
  type: string;
  bbox: Bbox;
  text: string;
  score: number | null;
  polygon?: [number, number][];
}

export interface Page {
  page: number;
  width: number;
  height: number;
  markdown: string;
  blocks: Block[];
  boxes_image?: string | null;
  warnings: string[];
  /**
   * the page with figures embedded as data URIs; only where it differs from markdown
   */
  source_markdown?: string;
  /**
   * where the text came from (orchestrator PDF pipeline, pdf_mode=auto)
   */
  source?: "backend" | "text_layer";
}

/**
 * One backend's result: POST /ocr, and each success in a comparison
 */
export type OcrResult = OcrResultFields & Required<Pick<OcrResultFields, "pages">>;

/**
 * A finished job's result: an ocr_result without its pages, which are in the job's pages (once)
 */
export type JobOcrResult = OcrResultFields & {pages?: never};

export interface OcrResultFields {
  success: true;
  backend: string;
  model: string;
  request_id: string;
  image_name: string | null;
  document_type: "image" | "pdf";
  raw_result: {
    [k: string]: unknown | undefined;
  };
  markdown: string;
  source_markdown: string;
  boxes_image: string | null;
  /**
   * seconds, whole request inside the backend
   */
  processing_time: number;
  /**
   * seconds by stage (decode, inference, postprocess, total, ...)
   */
  timings: {
    [k: string]: number | undefined;
  };
  options?: {
    [k: string]: unknown | undefined;
  };
  /**
   * present when the orchestrator answered from its result cache
   */
  cache?: {
    hit: boolean;
    stored_at?: string;
  };
  /**
   * how the orchestrator cut a PDF: slices, pages per slice, text-layer pages
   */
  dispatch?: {
    [k: string]: unknown | undefined;
  };
  /**
   * @minItems 1
   */
  pages?: [Page, ...Page[]];
  /**
   * the document's own; each page keeps its own warnings
   */
  warnings: string[];
}

export interface ErrorBody {
  success: false;
  backend: string | null;
  error: {
    code: string;
    message: string;
    retryable: boolean;
  };
  request_id: string;
  available_backends?: string[];
}

export interface BackendHealth {
  /**
   * what a backend says of itself (shared/health.py: SELF_REPORTED)
   */
  status: "healthy" | "loading" | "unavailable";
  model_loaded: boolean;
  gpu_available: boolean;
  backend: string;
  timestamp: string;
  device: string;
  model: string;
  /**
   * digest of the model and every setting that changes output; the orchestrator's result cache keys on it
   */
  fingerprint: string;
  in_flight: number;
  queued: number;
  max_concurrency?: number;
  /**
   * requests it holds at once, running and waiting; one more is 503 overloaded (its threads for probes are never among them)
   */
  capacity?: number;
  reason?: string | null;
  /**
   * the backend's own options besides dpi, page_range and boxes_image (OCRBackend.option_fields); any other is refused with 400 invalid_option
   */
  options: OptionField[];
}

/**
 * One option a backend publishes: a JSON Schema property (choices as enum) with its name (shared/options.py FormField.to_json)
 */
export interface OptionField {
  name: string;
  type: "string" | "integer" | "boolean";
  description: string;
  enum?: string[];
  default?: string | number | boolean;
  minimum?: number;
  maximum?: number;
}

/**
 * What the orchestrator knows of one backend (healthy when any replica is); url lists the configured replica URLs joined with | (`<internal>` unless the caller has an operator key)
 */
export interface BackendStatus {
  name: string;
  url: string;
  status: "healthy" | "loading" | "unavailable" | "unreachable" | "unknown";
  model: string | null;
  /**
   * the healthy replicas' fingerprint when they all agree, else null
   */
  fingerprint?: string | null;
  reason?: string | null;
  checked_at: string | null;
  health?: {
    [k: string]: unknown | undefined;
  } | null;
  /**
   * the options the backend publishes (its replicas' last health answer); null until one has answered: then requests are forwarded unchecked
   */
  options?: OptionField[] | null;
  replicas?: ReplicaStatus[];
}

/**
 * One replica of a backend: its last health, failures in a row, and its work (load = its reported in_flight + queued + this orchestrator process's requests to it)
 */
export interface ReplicaStatus {
  url: string;
  source: string;
  status: "healthy" | "loading" | "unavailable" | "unreachable" | "unknown";
  model?: string | null;
  /**
   * from its last health answer
   */
  fingerprint?: string | null;
  reason?: string | null;
  checked_at?: string | null;
  failures: number;
  in_flight: number;
  load: number;
}

export interface OrchestratorHealth {
  status: "healthy" | "degraded";
  deepseek_status: "healthy" | "loading" | "unavailable" | "unreachable" | "unknown" | "not_configured";
  mineru_status: "healthy" | "loading" | "unavailable" | "unreachable" | "unknown" | "not_configured";
  timestamp: string;
  backends: {
    [k: string]: BackendStatus | undefined;
  };
  limits: UploadLimits;
}

/**
 * The orchestrator's upload limits (shared/uploads.py UploadLimits.published), for checks before an upload
 */
export interface UploadLimits {
  /**
   * the largest document, in bytes
   */
  max_bytes: number;
  /**
   * the most pixels an image may have (width x height)
   */
  max_pixels: number;
  max_pdf_pages: number;
  /**
   * the formats accepted, told from the content (magic bytes), not the name
   */
  formats: ("png" | "jpeg" | "webp" | "tiff" | "bmp" | "pdf")[];
}

export interface BackendsList {
  default: string;
  backends: BackendStatus[];
}

/**
 * POST /ocr/compare: each backend's own result or error, labelled; never a fallback
 */
export type ComparisonResult = ComparisonResultFields & {
  results?: {
    [k: string]: OcrResult | ErrorBody | undefined;
  };
};

/**
 * A finished comparison job's result: each backend's result without its pages (they are in the job's pages)
 */
export type JobComparisonResult = ComparisonResultFields & {
  results?: {
    [k: string]: JobOcrResult | ErrorBody | undefined;
  };
};

export interface ComparisonResultFields {
  /**
   * true when at least one backend gave a result
   */
  success: boolean;
  comparison: true;
  request_id: string;
  image_name?: string | null;
  document_type: "image" | "pdf";
  backends: string[];
  /**
   * backend name: its result or its error
   */
  results: {
    [k: string]: unknown | undefined;
  };
  times: {
    [k: string]: number | undefined;
  };
  agreement: {
    /**
     * @minItems 2
     * @maxItems 2
     */
    backends: [string, string];
    agreement: number;
  }[];
  reference_scores?: {
    [k: string]:
      | {
          cer: number;
          wer: number;
        }
      | undefined;
  };
}

export interface JobAccepted {
  success: true;
  job_id: string;
  status: "queued";
  status_url: string;
  events_url: string;
}

export interface JobStatus {
  success: true;
  job_id: string;
  kind: "ocr" | "compare";
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  backends: string[];
  image_name?: string | null;
  options?: {
    [k: string]: unknown | undefined;
  };
  created_at: string;
  updated_at: string;
  /**
   * when a final job's result is deleted
   */
  expires_at?: string | null;
  status_url?: string;
  events_url?: string;
  progress: {
    pages_done: number;
    pages_total: number | null;
    backends: {
      [k: string]: unknown | undefined;
    };
  };
  /**
   * pages finished so far, per backend, in page order
   */
  pages: {
    [k: string]: Page[] | undefined;
  };
  result?: JobOcrResult | JobComparisonResult;
  error?: JobError;
}

/**
 * why the job failed: the contract's error object, plus the HTTP status it stands for and the backend
 */
export interface JobError {
  code: string;
  message: string;
  retryable: boolean;
  status?: number;
  backend?: string | null;
}

/**
 * A job in a listing: what it is and how far it got (GET its status_url for its pages and result)
 */
export interface JobSummary {
  job_id: string;
  kind: "ocr" | "compare";
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  backends: string[];
  image_name?: string | null;
  /**
   * null when the job kept no document
   */
  document_type?: "image" | "pdf" | null;
  created_at: string;
  updated_at: string;
  expires_at?: string | null;
  progress: {
    pages_done: number;
    pages_total: number | null;
  };
  status_url: string;
}

/**
 * GET /jobs: the caller's newest jobs, newest first (with API keys, its key's own)
 */
export interface JobList {
  success: true;
  jobs: JobSummary[];
  limit: number;
}

/**
 * POST /pdf/preview: pages of a PDF rendered by the orchestrator, each a PNG data URI
 */
export interface PdfPreview {
  success: true;
  image_name?: string | null;
  /**
   * pages in the whole document
   */
  page_count: number;
  dpi: number;
  pages: {
    page: number;
    width: number;
    height: number;
    image: string;
  }[];
}

/**
 * A job event `status`: the job's new status, with the error when it failed
 */
export interface JobEventStatus {
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  error?: JobError;
}

/**
 * A job event `progress`: one backend's pages done of its total (null until the document is read)
 */
export interface JobEventProgress {
  backend: string;
  pages_done: number;
  pages_total: number | null;
}

/**
 * A job event `page`: one backend's finished page, whole
 */
export interface JobEventPage {
  backend: string;
  page: Page;
}

/**
 * The last event of a job's stream (no id): the job's final status, null when the job is gone
 */
export interface JobEventEnd {
  status: "succeeded" | "failed" | "cancelled" | null;
}

/**
 * GET /live: the process answers HTTP
 */
export interface Liveness {
  status: "alive";
  timestamp: string;
}

/**
 * GET /ready: 200 when ready, else 503 with the reasons
 */
export interface Readiness {
  ready: boolean;
  reasons: string[];
  timestamp: string;
}

/**
 * An evaluation was queued: its id and status URL (also in `Location`)
 */
export interface EvaluationAccepted {
  id: string;
  status: "queued";
  url: string;
}

/**
 * The normalisation steps applied to reference and result before scoring (markdown syntax stripped, Unicode NFKC, case folded, whitespace collapsed)
 */
export interface EvaluationNormalization {
  markdown: boolean;
  unicode: boolean;
  case: boolean;
  whitespace: boolean;
}

/**
 * Per backend: documents done (failed included) of the total, and how many failed
 */
export interface EvaluationProgress {
  [k: string]:
    | {
        done: number;
        total: number;
        failed: number;
      }
    | undefined;
}

/**
 * One document through one backend, scored against its ground truth (rates null when it failed)
 */
export interface EvaluationResult {
  document: string;
  kind: string;
  backend: string;
  cer: number | null;
  wer: number | null;
  word_f1: number | null;
  pages: number;
  seconds: number;
  seconds_per_page: number | null;
  /**
   * answered from the result cache; `seconds` is the backend's time when it made the result
   */
  cached: boolean;
  error: null | JobError;
}

export interface EvaluationRates {
  cer: number | null;
  wer: number | null;
  word_f1: number | null;
}

/**
 * One backend over the set: micro averages (pooled over characters and words) at the top, macro (mean of documents) in `macro`, per kind (micro) in `by_kind`
 */
export interface EvaluationLeader {
  backend: string;
  /**
   * documents scored
   */
  documents: number;
  failed: number;
  cer: number | null;
  wer: number | null;
  word_f1: number | null;
  macro: EvaluationRates;
  pages_per_second: number | null;
  by_kind: {
    [k: string]:
      | {
          documents: number;
          cer: number | null;
          wer: number | null;
          word_f1: number | null;
        }
      | undefined;
  };
}

export interface EvaluationSummary {
  id: string;
  status: "queued" | "running" | "done" | "cancelled" | "failed";
  created: string;
  finished: string | null;
  backends: string[];
  documents: number;
  progress: EvaluationProgress;
  url: string;
}

/**
 * The caller's evaluations, newest first
 */
export interface EvaluationList {
  evaluations: EvaluationSummary[];
}

/**
 * An evaluation: status, progress, each document × backend scored, and the leaderboard (best micro CER first)
 */
export interface Evaluation {
  id: string;
  status: "queued" | "running" | "done" | "cancelled" | "failed";
  created: string;
  finished: string | null;
  backends: string[];
  documents: {
    name: string;
    kind: string;
    pages: number;
  }[];
  progress: EvaluationProgress;
  url: string;
  normalization: EvaluationNormalization;
  options: {
    [k: string]: unknown | undefined;
  };
  results: EvaluationResult[];
  leaderboard: EvaluationLeader[];
  events_url: string;
  error?: JobError;
}

/**
 * One document of an evaluation: its ground truth and each backend's stored result (markdown, pages with blocks but no boxes image) and scores
 */
export interface EvaluationDocument {
  name: string;
  kind: string;
  pages: number;
  reference: string;
  results: {
    [k: string]:
      | {
          markdown: string | null;
          pages: {
            [k: string]: unknown | undefined;
          }[];
          cer: number | null;
          wer: number | null;
          word_f1: number | null;
          seconds: number;
          error: null | JobError;
        }
      | undefined;
  };
}

/**
 * An evaluation event `status`: its new status, with the error when it failed
 */
export interface EvaluationEventStatus {
  status: "queued" | "running" | "done" | "cancelled" | "failed";
  error?: JobError;
}

/**
 * An evaluation event `result`: one document × backend finished and scored
 */
export type EvaluationEventResult = EvaluationResult;

/**
 * An evaluation event `progress`: one backend's documents done of the total
 */
export interface EvaluationEventProgress {
  backend: string;
  done: number;
  total: number;
  failed: number;
}

/**
 * The last event of an evaluation's stream (no id): its final status, null when it is gone
 */
export interface EvaluationEventEnd {
  status: "done" | "failed" | "cancelled" | null;
}
