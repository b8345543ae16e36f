import { lazy, Suspense, useEffect, useState } from "react";
import { ApiKeyControl } from "./components/ApiKeyControl";
import { chosenOf, FileInput, type ChosenFile } from "./components/common";
import { FirstRun } from "./components/FirstRun";
import { sampleFile } from "./sample";
import { CompareView } from "./components/CompareView";
import { SingleView } from "./components/SingleView";
import { useBackends, useUploadLimits } from "./hooks";
import { uploadProblem } from "./upload/checks";
import { ThemeToggle } from "./ui/ThemeToggle";

// The Evaluations view (#23) is its own chunk: the single and compare views never load it.
const EvaluationsView = lazy(() => import("./evaluations/EvaluationsView").then((module) => ({ default: module.EvaluationsView })));

/** Formats a browser can show as an <img> (TIFF it cannot). */
const PREVIEWABLE = new Set(["png", "jpeg", "webp", "bmp"]);

type ViewName = "single" | "compare" | "evaluations";
// `#/evaluations…` (the view's own routes follow: src/evaluations/logic.ts parseRoute).
const viewFromHash = (): ViewName => (window.location.hash.startsWith("#/evaluations") ? "evaluations"
  : window.location.hash === "#compare" ? "compare" : "single");

export function App() {
  const [view, setView] = useState<ViewName>(viewFromHash);
  const [chosen, setChosen] = useState<ChosenFile | null>(null);
  const { backends, defaultName, error, needsKey, offline } = useBackends();
  const limits = useUploadLimits();
  // A file the server would refuse is never sent: the views get no file to run.
  const problem = chosen ? uploadProblem({ size: chosen.file.size, format: chosen.format ?? null }, limits) : null;
  const runnable = problem ? null : chosen;

  // The page holds one file at a time: its object URL goes when another file takes its place.
  useEffect(() => () => { if (chosen) URL.revokeObjectURL(chosen.url); }, [chosen]);
  const trySample = async () => {
    const file = await sampleFile();
    if (file) setChosen(await chosenOf(file));
  };

  useEffect(() => {
    const onHash = () => setView(viewFromHash());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  return (
    <div className={offline ? "app offline" : "app"} data-testid="app">
      <header>
        <h1>OCR service</h1>
        <nav>
          <a href="#single" className={view === "single" ? "active" : ""} data-testid="nav-single">Single run</a>
          <a href="#compare" className={view === "compare" ? "active" : ""} data-testid="nav-compare">Compare</a>
          <a href="#/evaluations" className={view === "evaluations" ? "active" : ""} data-testid="nav-evaluations">Evaluations</a>
        </nav>
        <div className="header-tools">
          <ApiKeyControl needsKey={needsKey} />
          <ThemeToggle />
        </div>
      </header>
      {error && !needsKey ? <div className="error" role="alert" data-testid="service-error">{error}</div> : null}
      {/* Unreachable orchestrator: greyed out and out of reach of clicks and keys until it answers. */}
      <div className="work" inert={offline} data-testid="work">
        {view === "evaluations" ? (
          <Suspense fallback={<p className="muted">Loading…</p>}><EvaluationsView backends={backends} /></Suspense>
        ) : <>
        <FirstRun hidden={chosen != null} onSample={() => void trySample()} />
        <FileInput chosen={chosen} onChosen={setChosen} />
        {problem ? <div className="error" role="alert" data-testid="file-problem">{problem}</div> : null}
        {runnable && runnable.format && PREVIEWABLE.has(runnable.format)
          ? <img className="preview" src={runnable.url} alt="the uploaded page" /> : null}
        {view === "single"
          ? <SingleView chosen={runnable} backends={backends} defaultName={defaultName} />
          : <CompareView chosen={runnable} backends={backends} />}
        </>}
      </div>
    </div>
  );
}
