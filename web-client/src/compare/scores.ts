/** The comparison as a table: per backend its time, result, CER and WER against the reference, and
 * its mean agreement with the others; copied as tab-separated text (pastes into a spreadsheet). */
import type { AnyComparison } from "../api/types";
import { timeLabel, type Timed } from "./timing";

export interface ScoresTable {
  header: string[];
  rows: string[][];
}

const percent = (value: number) => `${(value * 100).toFixed(1)} %`;

/** The mean of a backend's agreement with each other backend that gave a result. */
export function meanAgreement(comparison: Pick<AnyComparison, "agreement">, name: string): number | null {
  const mine = comparison.agreement.filter((pair) => pair.backends.includes(name)).map((pair) => pair.agreement);
  return mine.length ? mine.reduce((sum, value) => sum + value, 0) / mine.length : null;
}

export function scoresTable(comparison: AnyComparison): ScoresTable {
  const scored = comparison.reference_scores != null;
  const header = ["backend", "time", "result", ...(scored ? ["CER", "WER"] : []), "agreement"];
  const rows = comparison.backends.map((name) => {
    const body = comparison.results[name] as (Timed & { success: boolean; error?: { code: string } }) | undefined;
    const ok = body?.success === true;
    const score = comparison.reference_scores?.[name];
    const agreement = meanAgreement(comparison, name);
    return [
      name,
      timeLabel(ok ? body : null, comparison.times[name]) ?? "—",
      ok ? "ok" : `error${body?.error?.code ? ` (${body.error.code})` : ""}`,
      ...(scored ? [score ? percent(score.cer) : "—", score ? percent(score.wer) : "—"] : []),
      agreement == null ? "—" : percent(agreement),
    ];
  });
  return { header, rows };
}

export function toTsv(table: ScoresTable): string {
  const clean = (cell: string) => cell.replace(/[\t\r\n]+/g, " ");
  return [table.header, ...table.rows].map((row) => row.map(clean).join("\t")).join("\n") + "\n";
}
