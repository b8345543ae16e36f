import { useEffect, useState } from "react";
import { ApiKeyControl } from "./components/ApiKeyControl";
import { FileInput, type ChosenFile } from "./components/common";
import { CompareView } from "./components/CompareView";
import { SingleView } from "./components/SingleView";
import { useBackends } from "./hooks";
import { ThemeToggle } from "./ui/ThemeToggle";

type ViewName = "single" | "compare";
const viewFromHash = (): ViewName => (window.location.hash === "#compare" ? "compare" : "single");

export function App() {
  const [view, setView] = useState<ViewName>(viewFromHash);
  const [chosen, setChosen] = useState<ChosenFile | null>(null);
  const { backends, defaultName, error, needsKey } = useBackends();

  useEffect(() => {
    const onHash = () => setView(viewFromHash());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  return (
    <div className="app">
      <header>
        <h1>OCR service</h1>
        <nav>
          <a href="#single" className={view === "single" ? "active" : ""} data-testid="nav-single">Single run</a>
          <a href="#compare" className={view === "compare" ? "active" : ""} data-testid="nav-compare">Compare</a>
        </nav>
        <div className="header-tools">
          <ApiKeyControl needsKey={needsKey} />
          <ThemeToggle />
        </div>
      </header>
      {error && !needsKey ? <div className="error" role="alert">{error}</div> : null}
      <FileInput chosen={chosen} onChosen={setChosen} />
      {chosen && !chosen.isPdf ? <img className="preview" src={chosen.url} alt="the uploaded page" /> : null}
      {view === "single"
        ? <SingleView chosen={chosen} backends={backends} defaultName={defaultName} />
        : <CompareView chosen={chosen} backends={backends} />}
    </div>
  );
}
