/** The leaderboard: one row per backend, sortable by every column (headers are buttons; the sorted
 * one carries aria-sort), plus the per-kind breakdown. */
import { useState } from "react";
import { cell, COLUMNS, DEFAULT_SORT, kindRows, nextSort, percent, sortRows, type SortOrder } from "./logic";
import type { LeaderboardRow } from "./types";

export function Leaderboard({ rows, front }: { rows: LeaderboardRow[]; front: ReadonlySet<string> }) {
  const [order, setOrder] = useState<SortOrder>(DEFAULT_SORT);
  const sorted = sortRows(rows, order);
  const sortedBy = COLUMNS.find((column) => column.key === order.key)?.label ?? order.key;
  return (
    <div className="table-box" data-testid="leaderboard-box">
      <p className="muted eval-note">
        CER, WER and word F1 pool every character and word of every document; the macro ones are the mean over documents.
        Click a column's header to sort by it.
      </p>
      <table className="eval-table" data-testid="leaderboard">
        <caption>Leaderboard, sorted by {sortedBy} ({order.direction})</caption>
        <thead>
          <tr>
            {COLUMNS.map((column) => {
              const sorted = order.key === column.key;
              return (
                <th key={column.key} scope="col" aria-sort={sorted ? order.direction : "none"}>
                  <button type="button" className="sort" onClick={() => setOrder(nextSort(order, column.key))}
                    data-testid={`sort-${column.key}`}>
                    {column.label}
                    <span aria-hidden="true" className="sort-mark">{sorted ? (order.direction === "ascending" ? " ▲" : " ▼") : ""}</span>
                  </button>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {sorted.map((row) => (
            <tr key={row.backend} data-testid={`leaderboard-row-${row.backend}`} data-backend={row.backend}>
              {COLUMNS.map((column) => (column.key === "backend"
                ? (
                  <th key={column.key} scope="row">
                    {row.backend}
                    {front.has(row.backend) ? <span className="pareto-badge" title="on the Pareto front: no other backend is both more accurate and faster"> ◆ Pareto</span> : null}
                  </th>
                )
                : <td key={column.key} data-testid={`cell-${column.key}`}>{cell(row, column.key)}</td>))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function KindTable({ rows }: { rows: LeaderboardRow[] }) {
  const kinds = kindRows(rows);
  if (!kinds.length) return null;
  return (
    <div className="table-box">
      <table className="eval-table" data-testid="kind-table">
        <caption>By document kind (from labels.csv)</caption>
        <thead>
          <tr>
            <th scope="col">Kind</th><th scope="col">Backend</th><th scope="col">Documents</th>
            <th scope="col">CER</th><th scope="col">WER</th><th scope="col">Word F1</th>
          </tr>
        </thead>
        <tbody>
          {kinds.map((row) => (
            <tr key={`${row.kind}|${row.backend}`} data-testid={`kind-row-${row.kind}-${row.backend}`}>
              <th scope="row">{row.kind}</th>
              <td>{row.backend}</td>
              <td>{row.documents}</td>
              <td>{percent(row.cer)}</td>
              <td>{percent(row.wer)}</td>
              <td>{percent(row.word_f1)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
