/** The orchestrator's JSON, as far as the page uses it (shared/contract.schema.json has it all). */

export type BBox = [number, number, number, number];

export interface Block {
  type: string;
  bbox: BBox;
  text: string;
  score: number | null;
}

export interface Page {
  page: number;
  width: number;
  height: number;
  markdown: string;
  source_markdown?: string;
  blocks: Block[];
  boxes_image?: string | null;
  warnings: string[];
  source?: string;
}

export interface ErrorInfo {
  code: string;
  message: string;
  retryable?: boolean;
}

export interface OCRSuccess {
  success: true;
  backend: string;
  model: string;
  document_type: "image" | "pdf";
  markdown: string;
  source_markdown: string;
  raw_result: unknown;
  boxes_image: string | null;
  processing_time: number;
  pages: Page[];
  warnings: string[];
  [key: string]: unknown;
}

export interface OCRFailure {
  success: false;
  backend: string | null;
  error: ErrorInfo;
  request_id?: string;
}

export type OCRBody = OCRSuccess | OCRFailure;

export interface Agreement {
  backends: [string, string];
  agreement: number;
}

export interface Comparison {
  success: boolean;
  comparison: true;
  document_type: "image" | "pdf";
  backends: string[];
  results: Record<string, OCRBody>;
  times: Record<string, number>;
  agreement: Agreement[];
  reference_scores?: Record<string, { cer: number; wer: number }>;
}

export type HealthStatus = "healthy" | "loading" | "unavailable" | "unreachable" | "unknown";

export interface BackendStatus {
  name: string;
  url: string;
  status: HealthStatus | string;
  model: string | null;
  reason: string | null;
  health: Record<string, unknown> | null;
}

export interface BackendsList {
  default: string;
  backends: BackendStatus[];
}

export interface JobAccepted {
  job_id: string;
  status: string;
  status_url: string;
  events_url: string;
}

export interface JobStatus {
  job_id: string;
  kind: "ocr" | "compare";
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  backends: string[];
  result?: OCRBody | Comparison;
  error?: ErrorInfo & { backend?: string | null };
}
