/** Small pieces used by both views: health lights, errors, progress bars, file input. */
import { useEffect, useState, type ReactNode } from "react";
import type { BackendProgress } from "../api/job_state";
import type { JobRun } from "../hooks";
import { percent } from "../api/job_state";
import type { BackendStatus } from "../api/types";
import type { ShownError } from "../errors";
import { formatLabel, HEADER_BYTES, imageSize, SNIFF_BYTES, sizeLabel, sniffFormat, type FormatName, type Pixels } from "../upload/checks";

export function HealthLight({ status }: { status: BackendStatus }) {
  const label = status.reason ? `${status.status}: ${status.reason}` : status.status;
  return <span className={`light light-${status.status}`} title={label} aria-label={label} data-testid={`light-${status.name}`} />;
}

export function ErrorBox({ error }: { error: ShownError }) {
  return (
    <div className="error" role="alert" data-testid={`error-${error.backend ?? "request"}`}>
      <strong>{error.backend ?? "request"}</strong>
      {error.code ? <code>{error.code}</code> : null}
      <span>{error.message}</span>
    </div>
  );
}

export function ProgressBar({ backend, progress, color }: { backend: string; progress: BackendProgress; color?: string }) {
  const value = percent(progress);
  const text = progress.total == null ? "starting…" : `${progress.done} / ${progress.total} pages (${value}%)`;
  return (
    <div className="progress" data-testid={`progress-${backend}`}>
      <span className="progress-name">{backend}</span>
      <div className="progress-track" role="progressbar" aria-label={`${backend} progress`} aria-valuemin={0}
        aria-valuemax={100} aria-valuenow={value ?? undefined}>
        <div className="progress-fill" style={{ width: `${value ?? 0}%`, background: color }} />
      </div>
      <span className="progress-text">{text}</span>
    </div>
  );
}

export interface ChosenFile {
  file: File;
  isPdf: boolean;
  url: string;
  /** Told from the content (upload/checks.ts); null when it is no format the server reads. */
  format?: FormatName | null;
  /** An image's size from its header; null when not told (a PDF, a header past the bytes read). */
  pixels?: Pixels | null;
}

/** A file as the page holds it: its format and an image's size from its content (headers only,
 * nothing decoded) and an object URL (the one who holds the ChosenFile revokes it when it lets go). */
export async function chosenOf(file: File): Promise<ChosenFile> {
  const head = new Uint8Array(await file.slice(0, Math.max(SNIFF_BYTES, HEADER_BYTES)).arrayBuffer());
  const format = sniffFormat(head.subarray(0, SNIFF_BYTES), file.size);
  const pixels = format && format !== "pdf" ? imageSize(head, format) : null;
  return { file, isPdf: format === "pdf", url: URL.createObjectURL(file), format, pixels };
}

/** Drag and drop, a file picker, or paste (anywhere on the page). */
export function FileInput({ chosen, onChosen }: { chosen: ChosenFile | null; onChosen: (file: ChosenFile) => void }) {
  const [over, setOver] = useState(false);

  const take = async (file: File | null | undefined) => {
    if (file) onChosen(await chosenOf(file));
  };

  useEffect(() => {
    const onPaste = (event: ClipboardEvent) => {
      const file = Array.from(event.clipboardData?.files ?? [])[0];
      if (file) void take(file);
    };
    window.addEventListener("paste", onPaste);
    return () => window.removeEventListener("paste", onPaste);
  });

  return (
    <label
      className={`drop ${over ? "drop-over" : ""}`}
      data-testid="drop-zone"
      onDragOver={(event) => { event.preventDefault(); setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={(event) => { event.preventDefault(); setOver(false); void take(event.dataTransfer.files[0]); }}
    >
      <input type="file" accept="image/*,application/pdf,.pdf" data-testid="file-input"
        onChange={(event) => void take(event.target.files?.[0])} />
      {chosen ? (
        <span data-testid="chosen-file">{chosen.file.name} · {formatLabel(chosen.format ?? null)} · {sizeLabel(chosen.file.size)}</span>
      ) : (
        <span>Drop an image or a PDF here, choose one, or paste it</span>
      )}
    </label>
  );
}

export function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="section">
      <h2>{title}</h2>
      {children}
    </section>
  );
}

interface RunActionsProps {
  label: string;
  testId: string;
  disabled: boolean;
  onRun: () => void;
  job: JobRun;
  /** Progress bar colour per backend (comparison); the default colour otherwise. */
  colorOf?: (backend: string) => string;
}

/** Run, cancel the job, its status and a progress bar per backend. */
export function RunActions({ label, testId, disabled, onRun, job, colorOf }: RunActionsProps) {
  const running = job.running;
  return (
    <>
      <div className="actions">
        {/* Not disabled while running: a disabled button drops the keyboard focus to the page. */}
        <button type="button" className="primary" onClick={() => { if (!running) onRun(); }} disabled={disabled}
          aria-disabled={running} data-testid={testId}>
          {running ? "Running…" : label}
        </button>
        {job.running ? <button type="button" onClick={() => void job.cancel()} data-testid="cancel">Cancel job</button> : null}
        {job.view ? <span className="job-status" data-testid="job-status">job {job.view.status}</span> : null}
      </div>
      {job.view ? (
        <div className="progress-list">
          {Object.entries(job.view.progress).map(([name, progress]) => (
            <ProgressBar key={name} backend={name} progress={progress} color={colorOf?.(name)} />
          ))}
        </div>
      ) : null}
    </>
  );
}

/** Read out by screen readers when it changes (results, errors); not shown. */
export function LiveStatus({ message }: { message: string }) {
  return <p className="visually-hidden" role="status" aria-live="polite" data-testid="live-status">{message}</p>;
}

/** The job was cancelled (here, or by another page or client): not an error. */
export function StoppedNote() {
  return (
    <p className="notice" data-testid="stopped">
      Cancelled: the server sends no more of its pages to the backend; the pages read before are shown.
    </p>
  );
}
