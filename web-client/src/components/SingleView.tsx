/** One backend: pick it (healthy ones only), set its options, run, see the result. */
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, api, isStopped, ocrForm } from "../api/client";
import type { BackendStatus, JobOCRSuccess, JobResult, OCRBody } from "../api/types";
import { useJob } from "../hooks";
import { backendKind, DEFAULT_OPTIONS, isSelectable, optionFields, type OcrOptions } from "../options";
import { errorOf, type ShownError } from "../errors";
import { announcement, runState } from "../ui/run_state";
import { useDocumentTitle } from "../ui/useDocumentTitle";
import { ErrorBox, HealthLight, LiveStatus, RunActions, StoppedNote, type ChosenFile } from "./common";
import { OptionsPanel } from "./OptionsPanel";
import { blocksInText } from "../render/link";
import { PagePicker, pageNumbers, PageView, shownPage } from "./PageView";
import { fromJobResult, fromPages, fromResult, ResultView, type ResultLike } from "./ResultView";

interface Props {
  chosen: ChosenFile | null;
  backends: BackendStatus[];
  defaultName: string | null;
}

/** A single job's successful result (not a comparison). */
function isSingleSuccess(body: JobResult): body is JobOCRSuccess {
  return body.success && !("comparison" in body);
}

export function BackendSelect({ backends, value, onChange }: { backends: BackendStatus[]; value: string; onChange: (name: string) => void }) {
  const selected = backends.find((b) => b.name === value);
  return (
    <div className="backend-select">
      <label>Backend{" "}
        <select value={value} onChange={(e) => onChange(e.target.value)} data-testid="backend-select">
          <option value="" disabled>choose…</option>
          {backends.map((b) => (
            <option key={b.name} value={b.name} disabled={!isSelectable(b)}>
              {isSelectable(b) ? "●" : b.status === "loading" ? "◐" : "✕"} {b.name} — {b.status}{b.model ? ` (${b.model})` : ""}
            </option>
          ))}
        </select>
      </label>
      {selected ? <HealthLight status={selected} /> : null}
      <ul className="health-list" data-testid="health-list">
        {backends.map((b) => (
          <li key={b.name}><HealthLight status={b} /> {b.name}{b.reason ? <span className="reason"> — {b.reason}</span> : null}</li>
        ))}
      </ul>
    </div>
  );
}

export function SingleView({ chosen, backends, defaultName }: Props) {
  const [backend, setBackend] = useState("");
  const [options, setOptions] = useState<OcrOptions>(DEFAULT_OPTIONS);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ResultLike | null>(null);
  const [error, setError] = useState<ShownError | null>(null);
  const [stopped, setStopped] = useState(false);
  const [page, setPage] = useState<number | null>(null);
  // Page ↔ text: the block picked on the page, and the blocks whose text the pointer is over.
  const [linked, setLinked] = useState<number | null>(null);
  const [hovered, setHovered] = useState<ReadonlySet<number>>(new Set());
  const job = useJob();
  const abort = useRef<AbortController | null>(null);

  // Start on the default backend once it is healthy (else the first healthy one). A choice made is
  // kept when its backend goes down: the page says so, it never switches to another on its own.
  useEffect(() => {
    if (backends.some((b) => b.name === backend)) return;
    const next = backends.find((b) => b.name === defaultName && isSelectable(b)) ?? backends.find(isSelectable);
    setBackend(next?.name ?? "");
  }, [backends, backend, defaultName]);

  // What one run shows: cleared by a new file (the old result, error and job are not this file's)
  // and by the next run.
  const clear = useCallback(() => {
    abort.current?.abort();
    setResult(null);
    setLinked(null);
    setError(null);
    setStopped(false);
    setPage(null);
    job.reset();
  }, [job.reset]);
  useEffect(clear, [chosen?.url, clear]);

  const status = backends.find((b) => b.name === backend);
  const kind = backendKind(status);
  const down = status && !isSelectable(status) && status.status !== "unknown" ? status : null;

  const run = async () => {
    if (!chosen || !backend) return;
    clear();
    const form = ocrForm(chosen.file, chosen.file.name, { backend, ...optionFields(options, status ? [status] : [], chosen.isPdf) });
    if (chosen.isPdf) {
      await job.start(form, [backend], false);
      return;
    }
    const controller = new AbortController();
    abort.current = controller;
    setBusy(true);
    try {
      const body: OCRBody = await api.ocr(form, { signal: controller.signal });
      if (body.success) setResult(fromResult(body));
      else setError(errorOf(new ApiError(body.error.message, body.error.code, null, body.backend), backend));
    } catch (err) {
      if (isStopped(err)) setStopped(true);
      else setError(errorOf(err, backend));
    } finally {
      setBusy(false);
    }
  };

  // A job: the pages so far, then the final result (or its error). Its pages are the job's own
  // (page events, then its top-level pages); the result gives the rest (markdown, model, times…).
  const jobResult = job.final?.result;
  const jobPages = job.view?.pages[backend] ?? [];
  const shown: ResultLike | null = result
    ?? (jobResult && isSingleSuccess(jobResult) ? fromJobResult(jobResult, jobPages) : jobPages.length ? fromPages(backend, jobPages) : null);
  const jobError = job.shownError(backend);
  const pages = shown?.pages ?? [];
  const numbers = pageNumbers([pages]);
  const pageNo = shownPage(numbers, page);
  const current = pages.find((p) => p.page === pageNo);
  const blocks = current?.blocks ?? [];
  const linkedText = linked != null ? blocks[linked]?.text ?? null : null;
  const onText = (text: string | null, clicked: boolean) => {
    const found = text ? blocksInText(blocks, text) : [];
    if (clicked) setLinked(found[0] ?? null);
    else setHovered(new Set(found));
  };
  const shownFailure = error ?? jobError;
  const state = runState({
    hasFile: !!chosen, running: busy || job.running, failed: !!shownFailure, done: !!shown, stopped,
  });
  useDocumentTitle(chosen?.file.name ?? null, state);
  const said = announcement(state, [backend], state === "done" ? `${pages.length} page${pages.length === 1 ? "" : "s"}`
    : shownFailure ? `${shownFailure.code ?? ""} ${shownFailure.message}`.trim() : "");

  return (
    <div className="view" data-testid="single-view">
      <div className="controls">
        <BackendSelect backends={backends} value={backend} onChange={setBackend} />
        <OptionsPanel options={options} onChange={setOptions} backends={status ? [status] : []} isPdf={!!chosen?.isPdf} />
        <RunActions label="Run OCR" testId="run" disabled={!chosen || !status || !isSelectable(status)} onRun={run} busy={busy}
          onStop={() => abort.current?.abort()} job={job} />
      </div>
      <LiveStatus message={said} />
      {down ? (
        <p className="error backend-down" role="alert" data-testid="backend-down">
          {down.name} is {down.status}{down.reason ? ` (${down.reason})` : ""}: choose another backend, or wait for it to come back.
        </p>
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
      {jobError ? <ErrorBox error={jobError} /> : null}
      {stopped ? <StoppedNote /> : null}
      {shown ? (
        <div className="output">
          <div className="output-page">
            <PagePicker numbers={numbers} page={pageNo} onPage={(number) => { setPage(number); setLinked(null); }} />
            {current ? (
              <PageView imageUrl={chosen && !chosen.isPdf ? chosen.url : null}
                layers={[{ backend, page: current, selected: linked, hovered, onPick: setLinked }]} />
            ) : null}
          </div>
          <div className="output-text">
            <ResultView result={shown} baseName={chosen?.file.name ?? "document"} kind={kind} currentPage={pageNo}
              linkedText={linkedText} onText={onText} />
          </div>
        </div>
      ) : null}
    </div>
  );
}
