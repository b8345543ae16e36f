/** Accuracy (1 − CER) against pages per second, one point per backend, the Pareto front joined
 * and ringed. Hand-written SVG (a chart library would weigh more than this whole view). The chart
 * is an image to screen readers, with a text alternative that names every point and the front. */
import { useId } from "react";
import { paretoFront, percent, rate, type Point } from "./logic";

const WIDTH = 640;
const HEIGHT = 340;
const PAD = { left: 56, right: 20, top: 16, bottom: 44 };

/** Round tick values from 0 up to the first at or past ``max``. */
export function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const values: number[] = [];
  for (let index = 0; index === 0 || values[index - 1] < max - step * 1e-9; index += 1) values.push(Number((index * step).toPrecision(12)));
  return values;
}

/** The words for a screen reader: each backend's figures and the front. */
export function chartSummary(points: readonly Point[], front: ReadonlySet<string>): string {
  if (!points.length) return "No backend has both an accuracy and a speed yet.";
  const each = points.map((point) => `${point.backend}: accuracy ${percent(point.accuracy)}, ${rate(point.speed)} pages/s`).join("; ");
  return `${each}. On the Pareto front (no other backend both more accurate and faster): ${[...front].join(", ")}.`;
}

export function Scatter({ points, colorOf }: { points: Point[]; colorOf: (backend: string) => string }) {
  const ids = useId();
  if (!points.length) return <p className="muted" data-testid="scatter-empty">{chartSummary(points, new Set())}</p>;
  const front = paretoFront(points);
  const maxSpeed = Math.max(...points.map((point) => point.speed), 0);
  const xTicks = ticks(maxSpeed > 0 ? maxSpeed * 1.1 : 1);
  const xMax = xTicks[xTicks.length - 1] || 1;
  const minAccuracy = Math.min(...points.map((point) => point.accuracy), 1);
  // The accuracy axis starts at the next 10 % below the least accurate backend (whole range when far apart).
  const yMin = Math.max(0, Math.floor((minAccuracy - 0.02) * 10) / 10);
  const yTicks = ticks(1 - yMin).map((tick) => yMin + tick).filter((tick) => tick <= 1 + 1e-9);
  const x = (speed: number) => PAD.left + (speed / xMax) * (WIDTH - PAD.left - PAD.right);
  const y = (accuracy: number) => HEIGHT - PAD.bottom - ((accuracy - yMin) / (1 - yMin || 1)) * (HEIGHT - PAD.top - PAD.bottom);
  const frontLine = points.filter((point) => front.has(point.backend)).sort((a, b) => a.speed - b.speed || b.accuracy - a.accuracy);
  const summary = chartSummary(points, front);
  return (
    <figure className="scatter" data-testid="scatter">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={`${ids}-title`} aria-describedby={`${ids}-desc`} className="scatter-svg">
        <title id={`${ids}-title`}>Accuracy against speed per backend</title>
        <desc id={`${ids}-desc`}>{summary}</desc>
        <g className="axis">
          {xTicks.map((tick) => (
            <g key={`x${tick}`}>
              <line x1={x(tick)} x2={x(tick)} y1={PAD.top} y2={HEIGHT - PAD.bottom} className="grid" />
              <text x={x(tick)} y={HEIGHT - PAD.bottom + 16} textAnchor="middle">{String(tick)}</text>
            </g>
          ))}
          {yTicks.map((tick) => (
            <g key={`y${tick}`}>
              <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} className="grid" />
              <text x={PAD.left - 6} y={y(tick) + 4} textAnchor="end">{`${Math.round(tick * 100)} %`}</text>
            </g>
          ))}
          <text x={(PAD.left + WIDTH - PAD.right) / 2} y={HEIGHT - 6} textAnchor="middle" className="axis-label">pages per second →</text>
          <text x={14} y={(PAD.top + HEIGHT - PAD.bottom) / 2} textAnchor="middle" className="axis-label"
            transform={`rotate(-90 14 ${(PAD.top + HEIGHT - PAD.bottom) / 2})`}>accuracy (1 − CER) →</text>
        </g>
        {frontLine.length > 1 ? (
          <polyline className="pareto-line" data-testid="pareto-front" fill="none"
            points={frontLine.map((point) => `${x(point.speed)},${y(point.accuracy)}`).join(" ")} />
        ) : null}
        {points.map((point) => {
          const onFront = front.has(point.backend);
          const cx = x(point.speed);
          const cy = y(point.accuracy);
          const right = cx > WIDTH * 0.7;
          return (
            <g key={point.backend} data-testid={`scatter-point-${point.backend}`} data-pareto={onFront ? "true" : "false"} className="scatter-point">
              {onFront ? <circle cx={cx} cy={cy} r={11} className="pareto-ring" /> : null}
              <circle cx={cx} cy={cy} r={6} fill={colorOf(point.backend)} />
              <text x={right ? cx - 14 : cx + 14} y={cy - 8} textAnchor={right ? "end" : "start"} className="point-label">
                {point.backend}{onFront ? " ◆" : ""}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="muted" data-testid="scatter-caption">
        Up is more accurate, right is faster. ◆ ringed and joined: the Pareto front ({[...front].join(", ") || "none yet"}).
      </figcaption>
    </figure>
  );
}
