/** One backend: pick it (healthy ones only), set its options, run (a job), see the result. */
import { useCallback, useEffect, useState } from "react";
import { ocrForm } from "../api/client";
import type { BackendStatus, JobOCRSuccess, JobResult } from "../api/types";
import { useJob, useJobNamed, usePageImage } from "../hooks";
import { backendKind, DEFAULT_OPTIONS, isSelectable, optionFields, type OcrOptions } from "../options";
import { announcement, runState } from "../ui/run_state";
import { useDocumentTitle } from "../ui/useDocumentTitle";
import { ErrorBox, HealthLight, LiveStatus, RunActions, StoppedNote, type ChosenFile } from "./common";
import { OptionsPanel } from "./OptionsPanel";
import { blocksInText } from "../render/link";
import { PagePicker, pageNumbers, PageView, shownPage } from "./PageView";
import { fromJobResult, fromPages, ResultView, type ResultLike } from "./ResultView";

interface Props {
  chosen: ChosenFile | null;
  backends: BackendStatus[];
  defaultName: string | null;
  /** A job to show, named by the page's URL (``#/jobs/<id>``); the view's own runs are reported
   * with ``onJob`` as soon as the server took them. */
  jobId?: string | null;
  onJob?: (jobId: string) => void;
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

export function SingleView({ chosen, backends, defaultName, jobId = null, onJob }: Props) {
  const [backend, setBackend] = useState("");
  const [options, setOptions] = useState<OcrOptions>(DEFAULT_OPTIONS);
  const [page, setPage] = useState<number | null>(null);
  // Page ↔ text: the block picked on the page, and the blocks whose text the pointer is over.
  const [linked, setLinked] = useState<number | null>(null);
  const [hovered, setHovered] = useState<ReadonlySet<number>>(new Set());
  const job = useJob();

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
    setLinked(null);
    setPage(null);
    job.reset();
  }, [job.reset]);
  const fileUrl = chosen?.url ?? null;
  useEffect(() => { if (fileUrl) clear(); }, [fileUrl, clear]);
  // A job named by the page's URL (a job link, a reload, the recent jobs, back from the other view).
  useJobNamed(job, jobId, () => {
    setLinked(null);
    setPage(null);
  });

  const status = backends.find((b) => b.name === backend);
  const down = status && !isSelectable(status) && status.status !== "unknown" ? status : null;

  const run = async () => {
    if (!chosen || !backend) return;
    clear();
    // Every run is a job: the server keeps it (a URL, a reload, the recent jobs). The page draws the
    // boxes over the server's clean page image, so no backend needs to draw them.
    const form = ocrForm(chosen.file, chosen.file.name, {
      backend, boxes_image: "false", ...optionFields(options, status ? [status] : [], chosen.isPdf),
    });
    await job.start(form, [backend], false, onJob);
  };

  // The job's pages so far, then its final result (or its error). Its pages are the job's own
  // (page events, then its top-level pages); the result gives the rest (markdown, model, times…).
  const ranOn = job.backends[0] ?? backend;
  const jobResult = job.final?.result;
  const jobPages = job.view?.pages[ranOn] ?? [];
  const shown: ResultLike | null = jobResult && isSingleSuccess(jobResult)
    ? fromJobResult(jobResult, jobPages) : jobPages.length ? fromPages(ranOn, jobPages) : null;
  const jobError = job.shownError(ranOn);
  const pages = shown?.pages ?? [];
  const numbers = pageNumbers([pages]);
  const pageNo = shownPage(numbers, page);
  const current = pages.find((p) => p.page === pageNo);
  const image = usePageImage(job.jobId, current ? pageNo : null);
  // Without the server's image (a job that kept no document), the image chosen here, if it is one.
  const imageUrl = image.url ?? (image.error && chosen && !chosen.isPdf ? chosen.url : null);
  const blocks = current?.blocks ?? [];
  const linkedText = linked != null ? blocks[linked]?.text ?? null : null;
  const onText = (text: string | null, clicked: boolean) => {
    const found = text ? blocksInText(blocks, text) : [];
    if (clicked) setLinked(found[0] ?? null);
    else setHovered(new Set(found));
  };
  const state = runState({
    hasFile: !!chosen || !!job.jobId, running: job.running, failed: !!jobError, done: !!shown && !job.cancelled,
    stopped: job.cancelled,
  });
  const name = chosen?.file.name ?? job.name;
  useDocumentTitle(name, state);
  const said = announcement(state, [ranOn], state === "done" ? `${pages.length} page${pages.length === 1 ? "" : "s"}`
    : jobError ? `${jobError.code ?? ""} ${jobError.message}`.trim() : "");

  return (
    <div className="view" data-testid="single-view">
      <div className="controls">
        <BackendSelect backends={backends} value={backend} onChange={setBackend} />
        <OptionsPanel options={options} onChange={setOptions} backends={status ? [status] : []} isPdf={!!chosen?.isPdf} />
        <RunActions label="Run OCR" testId="run" disabled={!chosen || !status || !isSelectable(status)} onRun={run} job={job} />
      </div>
      <LiveStatus message={said} />
      {down ? (
        <p className="error backend-down" role="alert" data-testid="backend-down">
          {down.name} is {down.status}{down.reason ? ` (${down.reason})` : ""}: choose another backend, or wait for it to come back.
        </p>
      ) : null}
      {jobError ? <ErrorBox error={jobError} /> : null}
      {job.cancelled ? <StoppedNote /> : null}
      {shown ? (
        <div className="output">
          <div className="output-page">
            <PagePicker numbers={numbers} page={pageNo} onPage={(number) => { setPage(number); setLinked(null); }} />
            {current ? (
              <PageView imageUrl={imageUrl} layers={[{ backend: ranOn, page: current, selected: linked, hovered, onPick: setLinked }]} />
            ) : null}
          </div>
          <div className="output-text">
            <ResultView result={shown} baseName={name ?? "document"} kind={backendKind(backends.find((b) => b.name === ranOn))} currentPage={pageNo}
              linkedText={linkedText} onText={onText} />
          </div>
        </div>
      ) : null}
    </div>
  );
}
