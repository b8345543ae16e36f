/** A word-level diff between any two texts of a comparison (two panes, or a pane and the
 * reference): words only in the first are struck out, words only in the second are underlined. */
import { useMemo } from "react";
import { diffCounts, diffWords, plainWords, type DiffRun } from "../compare/diff";

export interface DiffSource {
  name: string;
  text: string;
}

export const REFERENCE = "reference";

/** The pair shown: the user's pick while both are still there; else the first backend against the
 * reference when there is one, else against the second. */
export function pickPair(names: string[], picked: [string, string] | null): [string, string] {
  if (picked && picked.every((name) => names.includes(name))) return picked;
  return [names[0], names.includes(REFERENCE) && names[0] !== REFERENCE ? REFERENCE : names[1]];
}

/** The diff of a pair of sources, or null when there are not two or they are too long. */
export function useWordDiff(sources: DiffSource[], pair: [string, string]): DiffRun[] | null {
  const textOf = (name: string) => sources.find((source) => source.name === name)?.text ?? "";
  const [firstText, secondText] = [textOf(pair[0]), textOf(pair[1])];
  const enough = sources.length >= 2;
  return useMemo(() => (enough ? diffWords(plainWords(firstText), plainWords(secondText)) : null), [enough, firstText, secondText]);
}

interface Props {
  sources: DiffSource[];
  pair: [string, string];
  onPair: (pair: [string, string]) => void;
  runs: DiffRun[] | null;
}

export function DiffPanel({ sources, pair, onPair, runs }: Props) {
  const names = sources.map((source) => source.name);
  const [first, second] = pair;
  if (sources.length < 2) return null;
  const counts = runs ? diffCounts(runs) : null;

  const select = (value: string, onChange: (name: string) => void, testId: string) => (
    <select value={value} onChange={(event) => onChange(event.target.value)} data-testid={testId}>
      {names.map((name) => <option key={name} value={name}>{name}</option>)}
    </select>
  );
  return (
    <section className="diff-panel" data-testid="diff-panel" aria-label="word differences">
      <div className="diff-controls">
        <strong>Word diff</strong>
        <label>{select(first, (name) => onPair([name, second]), "diff-first")}</label>
        <span>against</span>
        <label>{select(second, (name) => onPair([first, name]), "diff-second")}</label>
        {counts ? (
          <span className="muted" data-testid="diff-counts">
            {counts.removed} word{counts.removed === 1 ? "" : "s"} only in {first}, {counts.added} only in {second}, {counts.equal} the same
          </span>
        ) : null}
      </div>
      {runs ? <p className="muted diff-note">Boxes with words that differ are dashed on the page.</p> : null}
      {runs ? (
        <p className="diff" data-testid="diff">
          {runs.map((run, index) => {
            const text = run.words.join(" ");
            const gap = index ? " " : "";
            if (run.kind === "removed") return <span key={index}>{gap}<del className="diff-removed" data-testid="diff-removed" title={`only in ${first}`}>{text}</del></span>;
            if (run.kind === "added") return <span key={index}>{gap}<ins className="diff-added" data-testid="diff-added" title={`only in ${second}`}>{text}</ins></span>;
            return <span key={index}>{gap}{text}</span>;
          })}
        </p>
      ) : <p className="muted">These texts are too long to compare word by word in the page.</p>}
    </section>
  );
}
