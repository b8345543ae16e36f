/** Comparison panes follow each other by page and block, not by fraction of height: the text at the
 * top of the pane scrolled (its page, the block it belongs to, how far into it) is brought to the top
 * of every other pane, found there by its text on the same page, else by its place among that page's
 * blocks. The measuring is the DOM's; the choosing is pure (unit-tested). */
import { normalised, TEXT_ELEMENTS } from "../render/link";

/** One text element of a pane, measured: its page (null: a result without pages), its text (the
 * first characters, normalised), its top and height in the pane's scrolled content. */
export interface Measured {
  page: number | null;
  key: string;
  top: number;
  height: number;
}

export interface Anchor {
  page: number | null;
  key: string;
  /** Its place among its page's elements, 0–1. */
  place: number;
  /** How far into the element the pane's top is, 0–1. */
  into: number;
}

const KEY_CHARS = 40;

export const keyOf = (text: string): string => normalised(text).slice(0, KEY_CHARS);

/** The element at the top of a pane scrolled to ``scrollTop``: the first whose bottom is below it. */
export function anchorOf(elements: readonly Measured[], scrollTop: number): Anchor | null {
  const index = elements.findIndex((element) => element.top + element.height > scrollTop);
  if (index < 0) return null;
  const element = elements[index];
  const samePage = elements.filter((other) => other.page === element.page);
  const position = samePage.indexOf(element);
  return {
    page: element.page,
    key: element.key,
    place: samePage.length > 1 ? position / (samePage.length - 1) : 0,
    into: element.height > 0 ? Math.min(1, Math.max(0, (scrollTop - element.top) / element.height)) : 0,
  };
}

/** Where another pane scrolls to show ``anchor`` at its top; null when it has nothing of that page. */
export function targetOf(anchor: Anchor, elements: readonly Measured[]): number | null {
  const samePage = elements.filter((element) => element.page === anchor.page);
  if (!samePage.length) return null;
  const same = (key: string) => key.length > 0 && anchor.key.length > 0 && (key.startsWith(anchor.key) || anchor.key.startsWith(key));
  // The same text: the nearest by place when it is there more than once (a repeated line).
  const matches = samePage.map((element, index) => ({ element, index })).filter(({ element }) => same(element.key));
  const wanted = anchor.place * (samePage.length - 1);
  const found = matches.sort((a, b) => Math.abs(a.index - wanted) - Math.abs(b.index - wanted))[0]?.element
    ?? samePage[Math.round(wanted)];
  return Math.max(0, found.top + anchor.into * found.height);
}

/** A pane's text elements, measured in its scrolled content. */
export function measure(pane: HTMLElement): Measured[] {
  const paneTop = pane.getBoundingClientRect().top - pane.scrollTop;
  return Array.from(pane.querySelectorAll<HTMLElement>(TEXT_ELEMENTS)).map((element) => {
    const box = element.getBoundingClientRect();
    const section = element.closest("[data-page]");
    const page = section ? Number(section.getAttribute("data-page")) : null;
    return { page: Number.isFinite(page) ? page : null, key: keyOf(element.textContent ?? ""), top: box.top - paneTop, height: box.height };
  });
}

/** The other panes' new scroll positions when ``source`` was scrolled: by block, by the ends at the
 * ends, else (nothing of that page there) by fraction of height. */
export function followers(source: HTMLElement, others: readonly HTMLElement[]): number[] {
  const max = (pane: HTMLElement) => Math.max(0, pane.scrollHeight - pane.clientHeight);
  const fraction = source.scrollTop / Math.max(1, max(source));
  if (source.scrollTop <= 0) return others.map(() => 0);
  if (source.scrollTop >= max(source) - 1) return others.map(max);
  const anchor = anchorOf(measure(source), source.scrollTop);
  return others.map((pane) => {
    const target = anchor ? targetOf(anchor, measure(pane)) : null;
    return Math.min(max(pane), target ?? fraction * max(pane));
  });
}
