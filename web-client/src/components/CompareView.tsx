/** Two or more backends on the same document at once: side-by-side panes with synchronised
 * scrolling, each with its time or its error; agreement; CER/WER against a reference; every
 * backend's boxes over the same page in its own colour. */
import { useEffect, useRef, useState, type CSSProperties } from "react";
import { ocrForm } from "../api/client";
import type { AnyComparison, BackendStatus } from "../api/types";
import { useJob, useJobNamed, usePageImage } from "../hooks";
import { backendKind, DEFAULT_OPTIONS, isSelectable, optionFields, type OcrOptions } from "../options";
import { scoresTable, toTsv } from "../compare/scores";
import { timeLabel } from "../compare/timing";
import { backendColors } from "../render/colors";
import type { ShownError } from "../errors";
import { announcement, runState } from "../ui/run_state";
import { useDocumentTitle } from "../ui/useDocumentTitle";
import { ErrorBox, HealthLight, LiveStatus, RunActions, StoppedNote, type ChosenFile } from "./common";
import { blocksWithWords, differingWords } from "../compare/diff";
import { followers } from "../compare/scroll_sync";
import { blocksInText } from "../render/link";
import { DiffPanel, pickPair, REFERENCE, useWordDiff, type DiffSource } from "./DiffPanel";
import { OptionsPanel } from "./OptionsPanel";
import { PagePicker, pageNumbers, PageView, shownPage, type BoxLayer } from "./PageView";
import { fromJobResult, fromPages, fromResult, ResultView, type ResultLike } from "./ResultView";

interface Props {
  chosen: ChosenFile | null;
  backends: BackendStatus[];
  /** A comparison job to show, named by the page's URL; the view's own runs are reported with ``onJob``. */
  jobId?: string | null;
  onJob?: (jobId: string) => void;
}

/** Scrolling one pane scrolls the others to the same page and block (compare/scroll_sync.ts);
 * picking a page scrolls each to that page's text. */
export function useSyncedScroll(count: number) {
  const panes = useRef<(HTMLDivElement | null)[]>([]);
  const syncing = useRef(false);
  const onScroll = (index: number) => {
    if (syncing.current) return;
    const source = panes.current[index];
    if (!source) return;
    const others = panes.current.filter((pane, other): pane is HTMLDivElement => pane != null && other !== index);
    const positions = followers(source, others);
    syncing.current = true;
    others.forEach((pane, other) => { pane.scrollTop = positions[other]; });
    requestAnimationFrame(() => { syncing.current = false; });
  };
  /** Every pane to the start of page ``number``'s text, each its own distance (not by fraction). */
  const scrollPanesTo = (number: number) => {
    syncing.current = true;
    for (const pane of panes.current) {
      const section = pane?.querySelector(`[data-page="${number}"]`);
      if (pane && section) pane.scrollTop += section.getBoundingClientRect().top - pane.getBoundingClientRect().top;
    }
    // The scroll events these cause come in the next frames: let them pass before syncing again.
    setTimeout(() => { syncing.current = false; }, 150);
  };
  panes.current.length = count;
  return { panes, onScroll, scrollPanesTo };
}

type Outcome = { backend: string; result: ResultLike | null; error: ShownError | null; time: number | null };

/** Each backend's row. A synchronous comparison's results carry their pages; a job's (``pages`` given)
 * carry none: its pages are the job's own, per backend. */
function outcomes(names: string[], comparison: AnyComparison | null, pages: Record<string, ResultLike["pages"]> | null): Outcome[] {
  return names.map((name) => {
    const body = comparison?.results[name];
    const time = comparison?.times[name] ?? null;
    if (body && body.success) {
      const result = pages ? fromJobResult(body, pages[name] ?? []) : fromResult({ ...body, pages: body.pages ?? [] });
      return { backend: name, result, error: null, time };
    }
    if (body && !body.success) {
      return { backend: name, result: null, time, error: { backend: body.backend ?? name, code: body.error.code, message: body.error.message } };
    }
    const sofar = pages?.[name] ?? [];
    return { backend: name, result: sofar.length ? fromPages(name, sofar) : null, error: null, time };
  });
}

export function CompareView({ chosen, backends, jobId = null, onJob }: Props) {
  const [picked, setPicked] = useState<string[]>([]);
  const [touched, setTouched] = useState(false);
  const [options, setOptions] = useState<OcrOptions>(DEFAULT_OPTIONS);
  const [reference, setReference] = useState("");
  const [page, setPage] = useState<number | null>(null);
  const [pickedPair, setPickedPair] = useState<[string, string] | null>(null);
  // Page ↔ text: the block picked on the page (in one backend's layer), the blocks under the pointer.
  const [linked, setLinked] = useState<{ backend: string; index: number } | null>(null);
  const [hovered, setHovered] = useState<{ backend: string; blocks: ReadonlySet<number> } | null>(null);
  const job = useJob();

  // Until the user picks, every healthy backend is picked.
  useEffect(() => {
    if (!touched) setPicked(backends.filter(isSelectable).map((b) => b.name));
  }, [backends, touched]);

  // A new file: the old results, error and job are not this file's.
  const fileUrl = chosen?.url ?? null;
  useEffect(() => {
    if (!fileUrl) return;
    setLinked(null);
    setPage(null);
    job.reset();
  }, [fileUrl, job.reset]);
  // A job named by the page's URL (a job link, a reload, the recent jobs, back from the other view).
  useJobNamed(job, jobId, () => {
    setLinked(null);
    setPage(null);
  });

  const toggle = (name: string) => {
    setTouched(true);
    setPicked((old) => (old.includes(name) ? old.filter((n) => n !== name) : [...old, name]));
  };
  const order = backends.map((b) => b.name).filter((name) => picked.includes(name));
  const pickedBackends = backends.filter((b) => picked.includes(b.name));

  const run = async () => {
    if (!chosen || order.length < 2) return;
    setLinked(null);
    setPage(null);
    // A job, as every run: the server keeps it; the page draws every backend's boxes itself.
    const form = ocrForm(chosen.file, chosen.file.name, {
      backends: order.join(","), reference: reference.trim() ? reference : undefined, boxes_image: "false",
      ...optionFields(options, pickedBackends, chosen.isPdf),
    });
    await job.start(form, order, true, onJob);
  };

  const ran = job.backends;
  const shownComparison: AnyComparison | null = job.final?.result && "comparison" in job.final.result ? job.final.result : null;
  const rows = ran.length ? outcomes(ran, shownComparison, job.view?.pages ?? {}) : [];
  const { panes, onScroll, scrollPanesTo } = useSyncedScroll(rows.length);
  const running = job.running;
  // Every pane on the same page *number*: mid-run one backend may have page 3 before page 2.
  const numbers = pageNumbers(rows.map((row) => row.result?.pages ?? []));
  const pageNo = shownPage(numbers, page);
  const diffSources: DiffSource[] = [
    ...rows.flatMap((row) => (row.result ? [{ name: row.backend, text: row.result.markdown }] : [])),
    ...(reference.trim() ? [{ name: REFERENCE, text: reference }] : []),
  ];
  const pair = pickPair(diffSources.map((source) => source.name), pickedPair);
  const runs = useWordDiff(diffSources, pair);
  const differing = runs ? differingWords(runs) : null;
  /** The blocks of ``backend`` on the page shown that hold words the diff marks. */
  const markedOf = (backend: string, blocks: { text: string }[]) => {
    if (!differing) return undefined;
    if (backend === pair[0]) return blocksWithWords(blocks, differing.removed);
    if (backend === pair[1]) return blocksWithWords(blocks, differing.added);
    return undefined;
  };
  const colors = backendColors([...backends.map((b) => b.name), ...ran]);
  const colorOf = (name: string) => colors.get(name) ?? "";
  const layers: BoxLayer[] = rows.flatMap((row) => {
    const pageResult = row.result?.pages.find((p) => p.page === pageNo);
    return pageResult
      ? [{
        backend: row.backend, page: pageResult, color: colorOf(row.backend), marked: markedOf(row.backend, pageResult.blocks),
        selected: linked?.backend === row.backend ? linked.index : null,
        hovered: hovered?.backend === row.backend ? hovered.blocks : undefined,
        onPick: (index: number | null) => setLinked(index == null ? null : { backend: row.backend, index }),
      }]
      : [];
  });
  const blocksOf = (backend: string) => layers.find((layer) => layer.backend === backend)?.page.blocks ?? [];
  const linkedTextOf = (backend: string) => (linked?.backend === backend ? blocksOf(backend)[linked.index]?.text ?? null : null);
  const onTextOf = (backend: string) => (text: string | null, clicked: boolean) => {
    const found = text ? blocksInText(blocksOf(backend), text) : [];
    if (clicked) setLinked(found.length ? { backend, index: found[0] } : null);
    else setHovered(found.length ? { backend, blocks: new Set(found) } : null);
  };
  const image = usePageImage(job.jobId, layers.length ? pageNo : null);
  const imageUrl = image.url ?? (image.error && chosen && !chosen.isPdf ? chosen.url : null);
  const jobError = job.shownError(ran.join(", "));
  const shownFailure = jobError;
  const state = runState({
    hasFile: !!chosen || !!job.jobId, running, failed: !!shownFailure, done: !!shownComparison && !job.cancelled,
    stopped: job.cancelled,
  });
  const name = chosen?.file.name ?? job.name;
  useDocumentTitle(name, state);
  const failedNames = rows.filter((row) => row.error).map((row) => row.backend);
  const said = announcement(state, ran, state === "done"
    ? failedNames.length ? `${failedNames.join(", ")} failed` : "every backend answered"
    : shownFailure ? `${shownFailure.code ?? ""} ${shownFailure.message}`.trim() : "");

  return (
    <div className="view" data-testid="compare-view">
      <div className="controls">
        <fieldset className="backend-checks">
          <legend>Backends (two or more)</legend>
          {backends.map((b) => (
            <label key={b.name} title={b.reason ?? b.status}>
              <input type="checkbox" checked={picked.includes(b.name)} onChange={() => toggle(b.name)} data-testid={`pick-${b.name}`} />
              <HealthLight status={b} /> {b.name}
              {!isSelectable(b) ? <span className="reason"> ({b.status}: expect an error)</span> : null}
            </label>
          ))}
        </fieldset>
        <OptionsPanel options={options} onChange={setOptions} backends={pickedBackends} isPdf={!!chosen?.isPdf} />
        <label className="reference">Reference text (optional: CER and WER per backend)
          <textarea rows={3} value={reference} onChange={(e) => setReference(e.target.value)} data-testid="reference" />
        </label>
        <RunActions label={`Compare ${order.length} backends`} testId="run-compare" disabled={!chosen || order.length < 2}
          onRun={run} job={job} colorOf={colorOf} />
      </div>
      <LiveStatus message={said} />
      {jobError ? <ErrorBox error={jobError} /> : null}
      {job.cancelled ? <StoppedNote /> : null}
      {shownComparison ? <Scores comparison={shownComparison} /> : null}
      {shownComparison && diffSources.length >= 2
        ? <DiffPanel sources={diffSources} pair={pair} onPair={setPickedPair} runs={runs} /> : null}
      <div className="compare-output">
        <div className="compare-page">
          <PagePicker numbers={numbers} page={pageNo} onPage={(number) => { setPage(number); setLinked(null); scrollPanesTo(number); }} />
          <PageView imageUrl={imageUrl} layers={layers} />
        </div>
        {rows.length ? (
          <div className="panes" style={{ "--pane-count": rows.length } as CSSProperties}>
            {rows.map((row, index) => (
              <div key={row.backend} className="pane" data-testid={`pane-${row.backend}`}>
                <div className="pane-head">
                  <span className="swatch" style={{ background: colorOf(row.backend) }} data-testid={`swatch-${row.backend}`} />
                  <strong>{row.backend}</strong>
                  <PaneTime row={row} />
                </div>
                <div className="pane-body" ref={(el) => { panes.current[index] = el; }} onScroll={() => onScroll(index)}
                  data-testid={`pane-body-${row.backend}`}>
                  {row.error ? <ErrorBox error={row.error} /> : null}
                  {row.result ? <ResultView result={row.result} baseName={name ?? "document"}
                    kind={backendKind(backends.find((b) => b.name === row.backend))} showTime={false} currentPage={pageNo}
                    linkedText={linkedTextOf(row.backend)} onText={onTextOf(row.backend)} /> : null}
                  {!row.error && !row.result ? <p className="muted">{running ? "working…" : "no result"}</p> : null}
                </div>
              </div>
            ))}
          </div>
        ) : null}
      </div>
    </div>
  );
}

/** The one time of a pane: the orchestrator's for this backend, or the first run's for a cached result. */
function PaneTime({ row }: { row: Outcome }) {
  const result = row.result;
  const timed = result?.processing_time != null ? { processing_time: result.processing_time, cache: result.full?.cache } : null;
  const label = timeLabel(timed, row.time);
  return label ? <span className="time" data-testid={`time-${row.backend}`}>{label}</span> : null;
}

function Scores({ comparison }: { comparison: AnyComparison }) {
  const table = scoresTable(comparison);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(toTsv(table));
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  const cerColumn = table.header.indexOf("CER");
  return (
    <div className="scores" data-testid="scores">
      <table>
        <caption>
          Latency and accuracy{" "}
          <button type="button" onClick={copy} data-testid="copy-scores">{copied ? "Copied" : "Copy table"}</button>
        </caption>
        <thead><tr>{table.header.map((name) => <th key={name} scope="col">{name}</th>)}</tr></thead>
        <tbody>
          {table.rows.map((row) => (
            <tr key={row[0]} data-testid={`score-${row[0]}`}>
              {row.map((cell, index) => (
                index === 0 ? <th key={index} scope="row">{cell}</th>
                  : <td key={index} data-testid={index === cerColumn ? `cer-${row[0]}` : undefined}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="agreement" data-testid="agreement">
        <strong>Agreement</strong>{" "}
        {comparison.agreement.length
          ? comparison.agreement.map((pair) => (
            <span key={pair.backends.join("|")} className="pair">{pair.backends.join(" ↔ ")}: {(pair.agreement * 100).toFixed(1)} %</span>
          ))
          : <span className="muted">needs two successful results</span>}
      </div>
    </div>
  );
}
