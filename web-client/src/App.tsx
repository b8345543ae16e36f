import { lazy, Suspense, useEffect, useState } from "react";
import { ApiKeyControl } from "./components/ApiKeyControl";
import { chosenOf, FileInput, type ChosenFile } from "./components/common";
import { FirstRun } from "./components/FirstRun";
import { sampleFile } from "./sample";
import { CompareView } from "./components/CompareView";
import { PdfPreview } from "./components/PdfPreview";
import { RecentJobs } from "./components/RecentJobs";
import { SingleView } from "./components/SingleView";
import { useBackends, useJobRoute, useUploadLimits } from "./hooks";
import { isEvaluationsHash, viewLink } from "./state/route";
import { uploadProblem } from "./upload/checks";
import { ThemeToggle } from "./ui/ThemeToggle";

// The Evaluations view (#23) is its own chunk: the single and compare views never load it.
const EvaluationsView = lazy(() => import("./evaluations/EvaluationsView").then((module) => ({ default: module.EvaluationsView })));

/** Formats a browser can show as an <img> (TIFF it cannot). */
const PREVIEWABLE = new Set(["png", "jpeg", "webp", "bmp"]);

export function App() {
  const [chosen, setChosenFile] = useState<ChosenFile | null>(null);
  const { view, jobs, routeError, onJob, onNewFile, jobNamed } = useJobRoute(() => setChosenFile(null));
  const [evaluations, setEvaluations] = useState(() => isEvaluationsHash(window.location.hash));
  useEffect(() => {
    const onHash = () => setEvaluations(isEvaluationsHash(window.location.hash));
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  const { backends, defaultName, error, needsKey, offline } = useBackends();
  const limits = useUploadLimits();
  const [previewProblem, setPreviewProblem] = useState<string | null>(null);
  // A file the server would refuse is never sent: the views get no file to run.
  const problem = chosen ? uploadProblem({ size: chosen.file.size, format: chosen.format ?? null, pixels: chosen.pixels }, limits) ?? previewProblem : null;
  const runnable = problem ? null : chosen;
  // A new file: the jobs shown were not this file's (each view clears its own).
  const setChosen = (file: ChosenFile) => {
    setPreviewProblem(null);
    setChosenFile(file);
    onNewFile();
  };

  // The page holds one file at a time: its object URL goes when another file takes its place.
  useEffect(() => () => { if (chosen) URL.revokeObjectURL(chosen.url); }, [chosen]);
  const trySample = async () => {
    const file = await sampleFile();
    if (file) setChosen(await chosenOf(file));
  };

  return (
    <div className={offline ? "app offline" : "app"} data-testid="app">
      <header>
        <h1>OCR service</h1>
        <nav>
          <a href={viewLink("single", jobs)} className={!evaluations && view === "single" ? "active" : ""} data-testid="nav-single">Single run</a>
          <a href={viewLink("compare", jobs)} className={!evaluations && view === "compare" ? "active" : ""} data-testid="nav-compare">Compare</a>
          <a href="#/evaluations" className={evaluations ? "active" : ""} data-testid="nav-evaluations">Evaluations</a>
        </nav>
        <div className="header-tools">
          <ApiKeyControl needsKey={needsKey} />
          <ThemeToggle />
        </div>
      </header>
      {error && !needsKey ? <div className="error" role="alert" data-testid="service-error">{error}</div> : null}
      {/* Unreachable orchestrator: greyed out and out of reach of clicks and keys until it answers. */}
      <div className="work" inert={offline} data-testid="work">
        {evaluations ? (
          <Suspense fallback={<p className="muted">Loading…</p>}><EvaluationsView backends={backends} /></Suspense>
        ) : <>
        <FirstRun hidden={chosen != null || jobs[view] != null} onSample={() => void trySample()} />
        <FileInput chosen={chosen} onChosen={setChosen} />
        {problem ? <div className="error" role="alert" data-testid="file-problem">{problem}</div> : null}
        {routeError ? <div className="error" role="alert" data-testid="job-not-found">{routeError}</div> : null}
        {runnable && runnable.format && PREVIEWABLE.has(runnable.format)
          ? <img className="preview" src={runnable.url} alt="the uploaded page" /> : null}
        {chosen?.isPdf && !problem ? <PdfPreview file={chosen.file} onProblem={setPreviewProblem} /> : null}
        {view === "single"
          ? <SingleView chosen={runnable} backends={backends} defaultName={defaultName} jobId={jobs.single} onJob={(id) => onJob(id, "single")} />
          : <CompareView chosen={runnable} backends={backends} jobId={jobs.compare} onJob={(id) => onJob(id, "compare")} />}
        <RecentJobs current={jobs[view]} refresh={jobNamed} />
        </>}
      </div>
    </div>
  );
}
