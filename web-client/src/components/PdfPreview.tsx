/** A chosen PDF's first pages before anything runs, rendered by the orchestrator (POST /pdf/preview:
 * the upload checks of /ocr, so a PDF the server would refuse is said here, before Run). */
import { useEffect, useState } from "react";
import { ApiError, api, isStopped } from "../api/client";
import type { PdfPreview as Preview } from "../api/types";

/** Refusals that say the document itself will be refused by a run too (not a busy or absent server). */
export const REFUSING_CODES = new Set([
  "payload_too_large", "too_many_pages", "unsupported_media_type", "corrupt_file", "encrypted_pdf", "empty_upload",
]);

/** What the preview says of a document the server would refuse; null otherwise. */
export function refusal(error: unknown): string | null {
  return error instanceof ApiError && REFUSING_CODES.has(error.code) ? `The server refuses this PDF: ${error.message}` : null;
}

export function PdfPreview({ file, onProblem }: { file: File; onProblem: (problem: string | null) => void }) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [note, setNote] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    setPreview(null);
    setNote(null);
    onProblem(null);
    api.previewPdf(file, file.name, { signal: controller.signal }).then(setPreview, (error) => {
      if (controller.signal.aborted || isStopped(error)) return;
      const problem = refusal(error);
      onProblem(problem);
      if (!problem) setNote(`No preview: ${(error as Error).message}`);
    });
    return () => controller.abort();
  }, [file]); // eslint-disable-line react-hooks/exhaustive-deps

  if (note) return <p className="muted" data-testid="pdf-preview-note">{note}</p>;
  if (!preview) return null;
  const shown = preview.pages.length;
  return (
    <figure className="pdf-preview" data-testid="pdf-preview">
      <div className="thumbs">
        {preview.pages.map((page) => (
          <img key={page.page} src={page.image} width={page.width} height={page.height}
            alt={`page ${page.page}`} data-testid="pdf-thumb" />
        ))}
      </div>
      <figcaption className="muted">
        {shown < preview.page_count ? `pages 1–${shown} of ${preview.page_count}` : `${preview.page_count} page${preview.page_count === 1 ? "" : "s"}`}
      </figcaption>
    </figure>
  );
}
