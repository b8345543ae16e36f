/** One backend's result: rendered markdown (sanitised), the markdown source, the raw output and the
 * JSON, its time, and copy/download of the markdown. */
import { useEffect, useId, useMemo, useRef, useState, type MouseEvent } from "react";
import type { Page, ResultFields, ResultWithPages } from "../api/types";
import type { BackendKind } from "../options";
import { timeLabel } from "../compare/timing";
import { elementForBlock, TEXT_ELEMENTS } from "../render/link";
import { renderMarkdown } from "../render/markdown";
import { pageWriter } from "../render/writer";
import { Tabs } from "../ui/Tabs";

/** What a view of one backend needs: a finished result, or the pages of a job so far. */
export interface ResultLike {
  backend: string;
  /** The model that read it (a finished result has it; a job's pages so far do not). */
  model?: string;
  markdown: string;
  source_markdown?: string;
  pages: Page[];
  processing_time?: number | null;
  raw_result?: unknown;
  /** Document-level warnings only: each page's own are in its ``warnings``. */
  warnings?: string[];
  /** The whole result (JSON tab, Download JSON), with the pages shown. */
  full?: ResultWithPages;
}

export const PAGE_SEPARATOR = "\n\n---\n\n";

/** A job still running: its pages so far. */
export function fromPages(backend: string, pages: Page[]): ResultLike {
  return {
    backend,
    pages,
    markdown: pages.map((page) => page.markdown).join(PAGE_SEPARATOR),
    source_markdown: pages.map((page) => page.source_markdown ?? page.markdown).join(PAGE_SEPARATOR),
    warnings: [],
  };
}

/** A result with its pages (a synchronous one carries them). */
export function fromResult(body: ResultWithPages): ResultLike {
  return { ...body, full: body };
}

/** A finished job: everything but the pages from its result, the pages from the job itself (its
 * top-level ``pages`` / page events); a result's own pages, if an older server sends them, are not used. */
export function fromJobResult(body: ResultFields & { pages?: unknown }, pages: Page[]): ResultLike {
  const { pages: _ignored, ...fields } = body;
  return fromResult({ ...fields, pages });
}

/** What the warnings list shows: the document's warnings, then each page's prefixed with its number
 * (``page 2: …``), each once (a document warning that repeats a page's, as older servers sent them,
 * is shown with its page). */
export function shownWarnings(result: Pick<ResultLike, "warnings" | "pages">): string[] {
  const pageWarnings = result.pages.flatMap((page) => (page.warnings ?? []).map((warning) => `page ${page.page}: ${warning}`));
  const fromPages = new Set(pageWarnings);
  const shown = new Set<string>();
  for (const warning of [...(result.warnings ?? []).filter((warning) => !fromPages.has(warning)), ...pageWarnings]) {
    shown.add(warning);
  }
  return [...shown];
}

/** JSON for reading: data URIs (page images, figure crops) shortened; downloads keep them whole. */
export function readableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item) =>
    typeof item === "string" && item.startsWith("data:") && item.length > 120 ? `${item.slice(0, 40)}… (${item.length} characters)` : item, 2);
}

/** A model's own text when its raw result has one per page (DeepSeek), else the raw JSON. */
export function rawText(raw: unknown): string {
  if (raw && typeof raw === "object") {
    for (const value of Object.values(raw as Record<string, unknown>)) {
      const pages = (value as { pages?: unknown })?.pages;
      if (Array.isArray(pages) && pages.length && pages.every((page) => typeof page?.text === "string")) {
        return pages.map((page) => page.text as string).join(PAGE_SEPARATOR);
      }
    }
  }
  return readableJson(raw ?? null);
}

function download(name: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The rendered text, page by page (each page read as its writer meant it: a PDF's text-layer pages
 * are text even when the backend writes math), or the whole markdown when there are no pages. */
export function renderedPages(result: Pick<ResultLike, "pages" | "markdown" | "source_markdown">, kind: BackendKind): { page: number | null; html: string }[] {
  if (!result.pages.length) return [{ page: null, html: renderMarkdown(result.source_markdown || result.markdown, pageWriter(kind)) }];
  return result.pages.map((page) => ({ page: page.page, html: renderMarkdown(page.source_markdown || page.markdown, pageWriter(kind, page)) }));
}

type Tab = "rendered" | "markdown" | "raw" | "json";
const TABS: readonly (readonly [Tab, string])[] = [["rendered", "Rendered"], ["markdown", "Markdown"], ["raw", "Raw output"], ["json", "JSON"]];

/** ``kind``: the backend's own kind (options.backendKind), which says how its markdown is written;
 * ``showTime`` false where the time is shown elsewhere (a comparison pane's head). */
export function ResultView({ result, baseName, kind, showTime = true, currentPage = null, linkedText = null, onText }: {
  result: ResultLike; baseName: string; kind: BackendKind; showTime?: boolean;
  /** The page picked beside it: its text is marked as the current page. */
  currentPage?: number | null;
  /** The text of the block picked on the page: its element is highlighted and scrolled to. */
  linkedText?: string | null;
  /** The pointer over (or a click on) an element of the current page's text; null when it leaves. */
  onText?: (text: string | null, clicked: boolean) => void;
}) {
  const markdownRoot = useRef<HTMLDivElement>(null);
  const [tab, setTab] = useState<Tab>("rendered");
  const [copied, setCopied] = useState(false);
  const ids = useId();
  const rendered = useMemo(() => renderedPages(result, kind), [result, kind]);
  const noText = rendered.every(({ html }) => !html.trim());
  // The picked block's text: highlighted in the current page's text and brought into view.
  useEffect(() => {
    const root = markdownRoot.current;
    if (!root) return;
    for (const old of root.querySelectorAll(".text-linked")) old.classList.remove("text-linked");
    if (!linkedText) return;
    const section = root.querySelector(`[data-page="${currentPage}"]`) ?? root;
    const element = elementForBlock(section, linkedText);
    element?.classList.add("text-linked");
    element?.scrollIntoView?.({ block: "nearest" });
  }, [linkedText, currentPage, rendered, tab]);
  const textEvent = (event: MouseEvent, clicked: boolean) => {
    if (!onText) return;
    const element = (event.target as Element).closest?.(TEXT_ELEMENTS);
    const section = element?.closest("[data-page]");
    if (element && (section == null || currentPage == null || section.getAttribute("data-page") === String(currentPage))) {
      onText(element.textContent ?? "", clicked);
    } else if (!clicked) onText(null, false);
  };
  const many = rendered.length > 1;
  const sectionProps = (page: number | null) => ({
    className: many && page === currentPage ? "page-text current-page" : "page-text",
    "data-page": page ?? undefined,
    "data-testid": "page-text",
    "aria-current": many && page === currentPage ? ("page" as const) : undefined,
  });
  const warnings = useMemo(() => shownWarnings(result), [result]);
  const stem = `${baseName.replace(/\.[^.]+$/, "") || "document"}.${result.backend}`;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(result.markdown);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };

  return (
    <div className="result" data-testid={`result-${result.backend}`}>
      <div className="result-bar">
        <span className="result-name" data-testid={`result-name-${result.backend}`}>
          {result.backend}{result.model ? <span className="model"> · {result.model}</span> : null}
        </span>
        <Tabs tabs={TABS} selected={tab} onSelect={setTab} idPrefix={ids} />
        {showTime && result.processing_time != null ? (
          <span className="time" data-testid={`time-${result.backend}`}>
            {timeLabel({ processing_time: result.processing_time, cache: result.full?.cache })}
          </span>
        ) : null}
        <button type="button" onClick={copy}>{copied ? "Copied" : "Copy markdown"}</button>
        <button type="button" onClick={() => download(`${stem}.md`, result.markdown, "text/markdown")}>Download .md</button>
        {result.full
          ? <button type="button" onClick={() => download(`${stem}.json`, JSON.stringify(result.full, null, 2), "application/json")}>Download JSON</button>
          : null}
      </div>
      {warnings.length ? (
        <ul className="warnings" data-testid={`warnings-${result.backend}`}>
          {warnings.map((warning, index) => <li key={index}>{warning}</li>)}
        </ul>
      ) : null}
      <div role="tabpanel" id={`${ids}-panel`} aria-labelledby={`${ids}-tab-${tab}`}>
        {tab === "rendered" ? (
          <div className="markdown" data-testid="rendered-markdown" ref={markdownRoot}
            onMouseOver={(event) => textEvent(event, false)} onMouseLeave={() => onText?.(null, false)}
            onClick={(event) => textEvent(event, true)}>
            {noText ? (
              <p className="notice" data-testid="no-text">
                No text found{result.pages.length > 1 ? ` on any of the ${result.pages.length} pages` : ""}.
              </p>
            ) : rendered.map(({ page, html }) => (html.trim()
              // The only HTML put into the page: markdown rendered and then sanitised (render/markdown.ts).
              ? <section key={page ?? "all"} {...sectionProps(page)} dangerouslySetInnerHTML={{ __html: html }} />
              : <section key={page ?? "all"} {...sectionProps(page)}>
                <p className="muted" data-testid="no-text-page">No text found on page {page}.</p>
              </section>))}
          </div>
        ) : (
          <pre className="source" data-testid={`tab-${tab}`}>
            {tab === "markdown" ? result.markdown : tab === "raw" ? rawText(result.raw_result) : readableJson(result.full ?? result)}
          </pre>
        )}
      </div>
    </div>
  );
}
