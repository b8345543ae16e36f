/** The page with the blocks drawn over it: one SVG, the clean page image at the back and one layer
 * of rectangles per result, each layer in its page's own pixel grid (backends render PDFs at their
 * own dpi), stretched over the same area. Hovering a box shows its text (an SVG <title>, plain text). */
import { useState } from "react";
import type { Page } from "../api/types";
import { typeColor } from "../render/colors";

export interface BoxLayer {
  backend: string;
  page: Page;
  /** One colour for the whole layer (comparison); by block type when absent. */
  color?: string;
  /** Indices of blocks to mark (dashed): they hold words the comparison's word diff marks. */
  marked?: ReadonlySet<number>;
  /** The block picked (its text is highlighted beside the page). */
  selected?: number | null;
  /** Blocks whose text the pointer is over, beside the page. */
  hovered?: ReadonlySet<number>;
  /** A click on a block (again on the picked one: null). */
  onPick?: (index: number | null) => void;
}

interface Props {
  /** The clean page the boxes are drawn over (the orchestrator's page image, GET
   * /jobs/<id>/pages/<n>/image), or null: then white (never a backend's own annotated render, whose
   * boxes would stay when the boxes are switched off). */
  imageUrl: string | null;
  layers: BoxLayer[];
}

function boxClass(layer: BoxLayer, index: number): string {
  return ["box", layer.marked?.has(index) ? "box-marked" : "", layer.selected === index ? "box-selected" : "",
    layer.hovered?.has(index) ? "box-hovered" : "", layer.onPick ? "box-pickable" : ""].filter(Boolean).join(" ");
}

export function PageView({ imageUrl, layers }: Props) {
  const [showBoxes, setShowBoxes] = useState(true);
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  if (layers.length === 0) return null;
  const base = layers[0].page;
  const background = imageUrl;
  const types = [...new Set(layers.flatMap((layer) => layer.page.blocks.map((block) => block.type)))];
  const toggle = (backend: string) =>
    setHidden((old) => {
      const next = new Set(old);
      if (next.has(backend)) next.delete(backend);
      else next.add(backend);
      return next;
    });

  return (
    <div className="page-view" data-testid="page-view">
      <div className="page-controls">
        <label><input type="checkbox" checked={showBoxes} onChange={(e) => setShowBoxes(e.target.checked)}
          data-testid="toggle-boxes" /> boxes</label>
        {layers.some((layer) => layer.color)
          ? layers.map((layer) => (
            <label key={layer.backend} className="legend-item">
              <input type="checkbox" checked={!hidden.has(layer.backend)} onChange={() => toggle(layer.backend)} />
              <span className="swatch" style={{ background: layer.color }} /> {layer.backend} ({layer.page.blocks.length})
            </label>
          ))
          : types.map((type) => (
            <span key={type} className="legend-item"><span className="swatch" style={{ background: typeColor(type) }} /> {type}</span>
          ))}
      </div>
      <svg className="page-svg" viewBox={`0 0 ${base.width} ${base.height}`} role="img"
        aria-label={`page ${base.page} with ${showBoxes ? "boxes" : "no boxes"}`}>
        {background
          ? <image href={background} x={0} y={0} width={base.width} height={base.height} preserveAspectRatio="none"
            data-testid="page-image" />
          : <rect x={0} y={0} width={base.width} height={base.height} fill="white" />}
        {showBoxes
          ? layers.filter((layer) => !hidden.has(layer.backend)).map((layer) => (
            <svg key={layer.backend} x={0} y={0} width={base.width} height={base.height}
              viewBox={`0 0 ${layer.page.width} ${layer.page.height}`} preserveAspectRatio="none"
              data-testid={`boxes-${layer.backend}`}>
              {layer.page.blocks.map((block, index) => {
                const [x1, y1, x2, y2] = block.bbox;
                const color = layer.color ?? typeColor(block.type);
                return (
                  <rect key={index} className={boxClass(layer, index)} data-testid="box"
                    data-type={block.type} data-marked={layer.marked?.has(index) ? "true" : undefined}
                    data-selected={layer.selected === index ? "true" : undefined}
                    onClick={layer.onPick ? () => layer.onPick?.(layer.selected === index ? null : index) : undefined}
                    x={x1} y={y1}
                    width={Math.max(1, x2 - x1)} height={Math.max(1, y2 - y1)} stroke={color} fill={color}
                    vectorEffect="non-scaling-stroke">
                    <title>{`${layer.backend} · ${block.type}: ${block.text}`}</title>
                  </rect>
                );
              })}
            </svg>
          ))
          : null}
      </svg>
    </div>
  );
}

/** The page numbers of several results together, in order (a range 2–3 is pages 2 and 3). */
export function pageNumbers(pageLists: readonly (readonly { page: number }[])[]): number[] {
  return [...new Set(pageLists.flatMap((pages) => pages.map((page) => page.page)))].sort((a, b) => a - b);
}

/** The page shown: the one picked while it is there, else the first. */
export function shownPage(numbers: readonly number[], picked: number | null): number | null {
  return picked != null && numbers.includes(picked) ? picked : numbers[0] ?? null;
}

/** "page 3 of 5" for a whole document; "page 3 (pages 2–3)" for a part of one. */
export function pageLabel(numbers: readonly number[], page: number): string {
  const whole = numbers.every((number, index) => number === index + 1);
  if (whole) return `page ${page} of ${numbers.length}`;
  const consecutive = numbers.every((number, index) => index === 0 || number === numbers[index - 1] + 1);
  const range = consecutive ? `${numbers[0]}–${numbers[numbers.length - 1]}` : numbers.join(", ");
  return `page ${page} (pages ${range})`;
}

/** The page picked by its number, and buttons to move. */
export function PagePicker({ numbers, page, onPage }: { numbers: readonly number[]; page: number | null; onPage: (page: number) => void }) {
  if (numbers.length <= 1 || page == null) return null;
  const index = Math.max(0, numbers.indexOf(page));
  return (
    <div className="page-picker" data-testid="page-picker">
      <button type="button" aria-label="previous page" onClick={() => onPage(numbers[index - 1])} disabled={index === 0}>‹</button>
      <span aria-live="polite">{pageLabel(numbers, numbers[index])}</span>
      <button type="button" aria-label="next page" onClick={() => onPage(numbers[index + 1])} disabled={index >= numbers.length - 1}>›</button>
    </div>
  );
}
