/** The Evaluations view (#23): start an evaluation of a labelled set (or the bundled sample set),
 * follow it per backend, and read its leaderboard, accuracy/speed chart, per-kind breakdown and
 * worst documents; every evaluation has its own URL (`#/evaluations/<id>`). */
import { useEffect, useState } from "react";
import { authHeaders } from "../api/api_key";
import type { BackendStatus } from "../api/types";
import { ErrorBox, HealthLight, LiveStatus } from "../components/common";
import { errorOf, type ShownError } from "../errors";
import { isSelectable } from "../options";
import { backendColors } from "../render/colors";
import { useDocumentTitle } from "../ui/useDocumentTitle";
import { DEFAULT_NORMALIZATION, evaluationForm, evaluationsApi, filesProblem, NORMALIZATION_FLAGS, type EvaluationSource, type Normalization } from "./api";
import { DocumentCompare } from "./DocumentCompare";
import { useEvaluation, useRecentEvaluations } from "./hooks";
import { KindTable, Leaderboard } from "./Leaderboard";
import { chartPoints, errorText, paretoFront, parseRoute, percent, routeHash, when, worstDocuments, type EvaluationRoute } from "./logic";
import { Scatter } from "./Scatter";
import { FINAL_EVALUATION_STATUSES, type BackendProgress, type Evaluation } from "./types";
import "./evaluations.css";

function useRoute(): EvaluationRoute {
  const [route, setRoute] = useState<EvaluationRoute>(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  return route;
}

export function EvaluationsView({ backends }: { backends: BackendStatus[] }) {
  const route = useRoute();
  if (route.page === "document") return <DocumentCompare id={route.id} name={route.name} backend={route.backend} backends={backends} />;
  if (route.page === "evaluation") return <EvaluationDetail id={route.id} backends={backends} />;
  return (
    <div className="view evaluations" data-testid="evaluations-view">
      <StartForm backends={backends} />
      <RecentList />
    </div>
  );
}

function StartForm({ backends }: { backends: BackendStatus[] }) {
  const healthy = backends.filter(isSelectable).map((b) => b.name);
  const [picked, setPicked] = useState<string[] | null>(null);
  const [files, setFiles] = useState<File[]>([]);
  const [normalization, setNormalization] = useState<Normalization>(DEFAULT_NORMALIZATION);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | null>(null);
  const problem = filesProblem(files);
  // Until the user picks, every healthy backend is picked.
  const chosen = (picked ?? healthy).filter((name) => healthy.includes(name));
  const toggle = (name: string) => setPicked((old) => {
    const current = old ?? healthy;
    return current.includes(name) ? current.filter((n) => n !== name) : [...current, name];
  });
  const start = async (source: EvaluationSource) => {
    if (busy || !chosen.length) return;
    setBusy(true);
    setError(null);
    try {
      const accepted = await evaluationsApi.start(evaluationForm(source, chosen, normalization));
      window.location.hash = routeHash({ page: "evaluation", id: accepted.id });
    } catch (err) {
      setError(errorOf(err, null));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="eval-start" aria-labelledby="eval-start-title">
      <h2 id="eval-start-title">New evaluation</h2>
      <p className="muted">
        Every document runs through every chosen backend and is scored against its ground truth: a zip, or the documents
        with a <code>.txt</code> or <code>.md</code> of the same name (<code>invoice1.png</code> + <code>invoice1.txt</code>),
        and optionally a <code>labels.csv</code> (<code>name,kind</code>) for the per-kind breakdown.
      </p>
      <div className="controls">
        <label className="eval-files">Labelled set
          <input type="file" multiple accept="image/*,.pdf,.tif,.tiff,.txt,.md,.csv,.zip" data-testid="eval-files"
            onChange={(event) => setFiles([...(event.target.files ?? [])])} />
          <span className="muted" data-testid="eval-files-chosen">
            {files.length ? `${files.length} file${files.length === 1 ? "" : "s"} chosen` : "no files chosen"}
          </span>
        </label>
        <fieldset className="backend-checks">
          <legend>Backends</legend>
          {backends.map((b) => (
            <label key={b.name} title={b.reason ?? b.status}>
              <input type="checkbox" disabled={!isSelectable(b)} checked={chosen.includes(b.name)} onChange={() => toggle(b.name)}
                data-testid={`eval-pick-${b.name}`} />
              <HealthLight status={b} /> {b.name}
              {!isSelectable(b) ? <span className="reason"> ({b.status})</span> : null}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Normalisation before scoring</legend>
          {NORMALIZATION_FLAGS.map(({ key, label }) => (
            <label key={key}>
              <input type="checkbox" checked={normalization[key]} data-testid={`norm-${key}`}
                onChange={() => setNormalization((old) => ({ ...old, [key]: !old[key] }))} /> {label}
            </label>
          ))}
        </fieldset>
      </div>
      <div className="actions">
        <button type="button" className="primary" disabled={!files.length || !chosen.length || problem != null} aria-disabled={busy}
          onClick={() => void start({ sample: false, files })} data-testid="eval-start">
          {busy ? "Starting…" : `Evaluate ${chosen.length} backend${chosen.length === 1 ? "" : "s"}`}
        </button>
        <button type="button" disabled={!chosen.length} aria-disabled={busy} onClick={() => void start({ sample: true })}
          data-testid="eval-sample">
          Evaluate the sample set
        </button>
        {!chosen.length ? <span className="muted">No healthy backend to evaluate.</span> : null}
      </div>
      {problem ? <div className="error" role="alert" data-testid="eval-files-problem">{problem}</div> : null}
      {error ? <ErrorBox error={error} /> : null}
    </section>
  );
}

function RecentList() {
  const { list, error } = useRecentEvaluations(null);
  return (
    <section className="eval-recent" aria-labelledby="eval-recent-title">
      <h2 id="eval-recent-title">Recent evaluations</h2>
      {error ? <ErrorBox error={errorOf(error, null)} /> : null}
      {list && !list.length ? <p className="muted">None yet.</p> : null}
      {list?.length ? (
        <ul className="eval-list" data-testid="eval-list">
          {list.map((item) => (
            <li key={item.id}>
              <a href={routeHash({ page: "evaluation", id: item.id })} data-testid="eval-link">{item.id}</a>{" "}
              <span className={`eval-status eval-${item.status}`}>{item.status}</span>{" "}
              <span className="muted">
                {when(item.created)} · {item.documents} documents · {item.backends.join(", ")}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function ProgressLine({ backend, progress, color }: { backend: string; progress: BackendProgress; color?: string }) {
  const value = progress.total ? Math.round((100 * progress.done) / progress.total) : 0;
  return (
    <div className="progress" data-testid={`eval-progress-${backend}`}>
      <span className="progress-name">{backend}</span>
      <div className="progress-track" role="progressbar" aria-label={`${backend} progress`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={value}>
        <div className="progress-fill" style={{ width: `${value}%`, background: color }} />
      </div>
      <span className="progress-text">
        {progress.done} / {progress.total} documents{progress.failed ? `, ${progress.failed} failed` : ""}
      </span>
    </div>
  );
}

function download(name: string, blob: Blob) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function EvaluationDetail({ id, backends }: { id: string; backends: BackendStatus[] }) {
  const { evaluation, error, reload } = useEvaluation(id);
  const [actionError, setActionError] = useState<ShownError | null>(null);
  const final = evaluation ? FINAL_EVALUATION_STATUSES.has(evaluation.status) : false;
  const title = `evaluation ${id}`;
  const state = !evaluation ? (error ? "failed" : "running") : evaluation.status === "done" ? "done"
    : evaluation.status === "failed" ? "failed" : evaluation.status === "cancelled" ? "stopped" : "running";
  useDocumentTitle(title, state);
  const colors = backendColors([...backends.map((b) => b.name), ...(evaluation?.backends ?? [])]);
  const colorOf = (name: string) => colors.get(name) ?? "";

  const cancel = async () => {
    try {
      await evaluationsApi.cancel(id);
      reload();
    } catch (err) {
      setActionError(errorOf(err, null));
    }
  };
  const exportAs = async (format: "csv" | "json") => {
    try {
      const response = await fetch(evaluationsApi.exportUrl(id, format), { headers: authHeaders() });
      if (!response.ok) throw new Error(`export: HTTP ${response.status}`);
      download(`evaluation-${id}.${format}`, await response.blob());
    } catch (err) {
      setActionError(errorOf(err, null));
    }
  };
  const said = evaluation
    ? evaluation.status === "done" ? `Evaluation ${id} done: ${evaluation.leaderboard.length} backends on the leaderboard.`
      : evaluation.status === "running" || evaluation.status === "queued" ? `Evaluation ${id} ${evaluation.status}…`
        : `Evaluation ${id} ${evaluation.status}.`
    : "";
  return (
    <div className="view evaluation" data-testid="evaluation-view" data-status={evaluation?.status ?? ""}>
      <p><a href={routeHash({ page: "list" })} data-testid="all-evaluations">← All evaluations</a></p>
      <h2 className="eval-title">Evaluation <code>{id}</code>{" "}
        {evaluation ? <span className={`eval-status eval-${evaluation.status}`} data-testid="eval-status">{evaluation.status}</span> : null}
      </h2>
      <LiveStatus message={said} />
      {error ? <ErrorBox error={errorOf(error, null)} /> : null}
      {actionError ? <ErrorBox error={actionError} /> : null}
      {evaluation ? <EvaluationBody evaluation={evaluation} colorOf={colorOf} final={final}
        onCancel={() => void cancel()} onExport={(format) => void exportAs(format)} /> : error ? null : <p className="muted">Loading…</p>}
    </div>
  );
}

function EvaluationBody({ evaluation, colorOf, final, onCancel, onExport }: {
  evaluation: Evaluation; colorOf: (name: string) => string; final: boolean; onCancel: () => void; onExport: (format: "csv" | "json") => void;
}) {
  const flags = Object.entries(evaluation.normalization ?? {}).filter(([, on]) => on).map(([name]) => name);
  const points = chartPoints(evaluation.leaderboard ?? []);
  const front = paretoFront(points);
  return (
    <>
      <p className="muted eval-facts">
        {evaluation.documents?.length ?? 0} documents · {evaluation.backends.join(", ")} · normalised: {flags.join(", ") || "nothing"} ·
        started {when(evaluation.created)}{evaluation.finished ? ` · finished ${when(evaluation.finished)}` : ""}
      </p>
      <div className="actions">
        {!final ? <button type="button" onClick={onCancel} data-testid="eval-cancel">Cancel evaluation</button> : null}
        <button type="button" onClick={() => onExport("csv")} data-testid="eval-export-csv">Export CSV</button>
        <button type="button" onClick={() => onExport("json")} data-testid="eval-export-json">Export JSON</button>
      </div>
      <div className="progress-list">
        {Object.entries(evaluation.progress ?? {}).map(([name, progress]) => progress && (
          <ProgressLine key={name} backend={name} progress={progress} color={colorOf(name)} />
        ))}
      </div>
      {evaluation.error ? <ErrorBox error={{ backend: evaluation.error.backend ?? null, code: evaluation.error.code, message: evaluation.error.message }} /> : null}
      {evaluation.leaderboard?.length ? (
        <>
          <h3>Leaderboard</h3>
          <Leaderboard rows={evaluation.leaderboard} front={front} />
          <h3>Accuracy against speed</h3>
          <Scatter points={points} colorOf={colorOf} />
          <KindTable rows={evaluation.leaderboard} />
          <h3>Worst documents per backend</h3>
          <WorstDocuments evaluation={evaluation} />
        </>
      ) : <p className="muted">The leaderboard appears as documents are scored.</p>}
    </>
  );
}

function WorstDocuments({ evaluation }: { evaluation: Evaluation }) {
  const names = evaluation.leaderboard.map((row) => row.backend);
  return (
    <div className="worst-grid">
      {names.map((backend) => {
        const worst = worstDocuments(evaluation.results ?? [], backend);
        return (
          <section key={backend} className="worst" data-testid={`worst-${backend}`} aria-label={`worst documents of ${backend}`}>
            <h4>{backend}</h4>
            {worst.length ? (
              <ol>
                {worst.map((result) => (
                  <li key={result.document}>
                    <a href={routeHash({ page: "document", id: evaluation.id, name: result.document, backend })} data-testid="worst-link">
                      {result.document}
                    </a>{" "}
                    <span className="muted">
                      {result.error ? `failed: ${errorText(result.error)}` : `CER ${percent(result.cer)}`}
                      {result.kind ? ` · ${result.kind}` : ""}
                    </span>
                  </li>
                ))}
              </ol>
            ) : <p className="muted">no documents scored</p>}
          </section>
        );
      })}
    </div>
  );
}
