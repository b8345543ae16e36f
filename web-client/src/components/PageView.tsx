/** The page with the blocks drawn over it: one SVG, the page image at the back and one layer of
 * rectangles per result, each layer in its page's own pixel grid (backends render PDFs at their own
 * dpi), stretched over the same area. Hovering a box shows its text (an SVG <title>, plain text). */
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
}

interface Props {
  /** Object URL of the uploaded image, or null for a PDF (then a page's boxes_image, else white). */
  imageUrl: string | null;
  layers: BoxLayer[];
}

export function PageView({ imageUrl, layers }: Props) {
  const [showBoxes, setShowBoxes] = useState(true);
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  if (layers.length === 0) return null;
  const base = layers[0].page;
  const background = imageUrl ?? layers.find((layer) => layer.page.boxes_image)?.page.boxes_image ?? null;
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
          ? <image href={background} x={0} y={0} width={base.width} height={base.height} preserveAspectRatio="none" />
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
                  <rect key={index} className={layer.marked?.has(index) ? "box box-marked" : "box"} data-testid="box"
                    data-type={block.type} data-marked={layer.marked?.has(index) ? "true" : undefined} x={x1} y={y1}
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

/** Page n of several: the number picked, and buttons to move. */
export function PagePicker({ count, page, onPage }: { count: number; page: number; onPage: (page: number) => void }) {
  if (count <= 1) return null;
  return (
    <div className="page-picker" data-testid="page-picker">
      <button type="button" onClick={() => onPage(Math.max(0, page - 1))} disabled={page === 0}>‹</button>
      <span>page {page + 1} of {count}</span>
      <button type="button" onClick={() => onPage(Math.min(count - 1, page + 1))} disabled={page >= count - 1}>›</button>
    </div>
  );
}
