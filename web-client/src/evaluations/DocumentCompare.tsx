/** One document of an evaluation in the comparison layout: its reference and every backend's text
 * side by side, each with its scores, and the word diff (web client v2's) of the backend opened
 * against the reference. */
import { useEffect, useMemo, useState, type CSSProperties } from "react";
import type { BackendStatus, Page } from "../api/types";
import { DiffPanel, pickPair, REFERENCE, useWordDiff, type DiffSource } from "../components/DiffPanel";
import { ErrorBox } from "../components/common";
import { useSyncedScroll } from "../components/CompareView";
import { ResultView, type ResultLike } from "../components/ResultView";
import { errorOf } from "../errors";
import { backendKind } from "../options";
import { backendColors } from "../render/colors";
import { evaluationsApi } from "./api";
import { percent, routeHash } from "./logic";
import type { DocumentBackendResult, DocumentDetail } from "./types";

const NO_RESULT: DocumentBackendResult = { markdown: null, pages: [], cer: null, wer: null, word_f1: null, seconds: 0, error: null };

function resultOf(detail: DocumentDetail, name: string): DocumentBackendResult {
  return detail.results[name] ?? NO_RESULT;
}

/** The stored pages when they are pages (each with its markdown): the text is then drawn page by
 * page, each as its writer meant it; else none (the whole markdown). */
function pagesOf(result: DocumentBackendResult): Page[] {
  const pages = result.pages ?? [];
  return pages.every((page) => typeof page.markdown === "string" && typeof page.page === "number") ? pages as unknown as Page[] : [];
}

/** The sources of the diff: the backend opened first, then the reference, then the others. */
export function documentSources(detail: DocumentDetail, opened: string | null): DiffSource[] {
  const names = Object.keys(detail.results);
  const first = opened && names.includes(opened) ? [opened] : names.slice(0, 1);
  const rest = names.filter((name) => !first.includes(name));
  return [
    ...first.map((name) => ({ name, text: resultOf(detail, name).markdown ?? "" })),
    { name: REFERENCE, text: detail.reference ?? "" },
    ...rest.map((name) => ({ name, text: resultOf(detail, name).markdown ?? "" })),
  ];
}

export function DocumentCompare({ id, name, backend, backends }: { id: string; name: string; backend: string | null; backends: BackendStatus[] }) {
  const [detail, setDetail] = useState<DocumentDetail | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [picked, setPicked] = useState<[string, string] | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    setDetail(null);
    setError(null);
    setPicked(null);
    evaluationsApi.document(id, name, { signal: controller.signal })
      .then(setDetail)
      .catch((err) => { if (!controller.signal.aborted) setError(err as Error); });
    return () => controller.abort();
  }, [id, name]);

  const sources = useMemo(() => (detail ? documentSources(detail, backend) : []), [detail, backend]);
  const pair = pickPair(sources.map((source) => source.name), picked);
  const runs = useWordDiff(sources, pair);
  const names = detail ? Object.keys(detail.results) : [];
  const colors = backendColors([...backends.map((b) => b.name), ...names]);
  const ordered = sources.map((source) => source.name);
  // The panes scroll together, as in a comparison.
  const { panes, onScroll } = useSyncedScroll(ordered.length);

  return (
    <div className="view evaluation-document" data-testid="evaluation-document">
      <p><a href={routeHash({ page: "evaluation", id })} data-testid="back-to-evaluation">← Back to the evaluation</a></p>
      <h2 className="eval-doc-name">{name}{detail?.kind ? <span className="muted"> · {detail.kind}</span> : null}</h2>
      {error ? <ErrorBox error={errorOf(error, null)} /> : null}
      {!detail && !error ? <p className="muted">Loading…</p> : null}
      {detail ? (
        <>
          <div className="table-box">
            <table className="eval-table" data-testid="document-scores">
              <caption>Scores of this document against its reference</caption>
              <thead><tr><th scope="col">Backend</th><th scope="col">CER</th><th scope="col">WER</th><th scope="col">Word F1</th></tr></thead>
              <tbody>
                {names.map((result) => (
                  <tr key={result}>
                    <th scope="row">{result}</th>
                    <td>{percent(resultOf(detail, result).cer)}</td>
                    <td>{percent(resultOf(detail, result).wer)}</td>
                    <td>{percent(resultOf(detail, result).word_f1)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <DiffPanel sources={sources} pair={pair} onPair={setPicked} runs={runs} />
          <div className="panes" style={{ "--pane-count": ordered.length } as CSSProperties}>
            {ordered.map((source, index) => {
              const isReference = source === REFERENCE;
              const scores = isReference ? null : resultOf(detail, source);
              const result: ResultLike = scores
                ? { backend: source, markdown: scores.markdown ?? "", pages: pagesOf(scores) }
                : { backend: REFERENCE, markdown: detail.reference ?? "", pages: [] };
              return (
                <div key={source} className="pane" data-testid={`pane-${source}`}>
                  <div className="pane-head">
                    {isReference ? null : <span className="swatch" style={{ background: colors.get(source) }} />}
                    <strong>{isReference ? "Reference (ground truth)" : source}</strong>
                    {scores ? <span className="time">CER {percent(scores.cer)}</span> : null}
                  </div>
                  <div className="pane-body" ref={(element) => { panes.current[index] = element; }} onScroll={() => onScroll(index)}>
                    {scores?.error ? <ErrorBox error={{ backend: source, code: scores.error.code, message: scores.error.message }} /> : null}
                    <ResultView result={result} baseName={name} showTime={false}
                      kind={isReference ? "other" : backendKind(backends.find((b) => b.name === source))} />
                  </div>
                </div>
              );
            })}
          </div>
        </>
      ) : null}
    </div>
  );
}
