"""PDF work the orchestrator does itself: cutting a document into page slices for the backends,
and reading pages from the PDF's own text layer (``pdf_mode=auto``) without any model."""

from __future__ import annotations

import pymupdf

from shared.api_contract import Block, PageResult
from shared.pdf import PDF_LOCK, reading_pdf

TEXT_BLOCK = 0  # PyMuPDF's block type for text (1 is an image)


def plan_slices(pages: list[int], size: int) -> list[list[int]]:
    """Consecutive runs of ``size`` of the selected (zero-based) pages, in order."""
    return [pages[start : start + size] for start in range(0, len(pages), size)]


def slice_pdf(data: bytes, pages: list[int]) -> bytes:
    """A new PDF holding only ``pages`` (zero-based), in that order."""
    with PDF_LOCK, reading_pdf("the PDF's pages to cut it into slices"):
        document = pymupdf.open(stream=data, filetype="pdf")
        try:
            document.select(pages)
            return document.tobytes(garbage=1)
        finally:
            document.close()


def read_text_layer(data: bytes, pages: list[int], *, dpi: int, min_chars: int) -> dict[int, PageResult]:
    """The pages among ``pages`` whose text layer is usable (at least ``min_chars`` non-blank
    characters), read in PyMuPDF's block order; boxes in pixels at ``dpi`` like a rendered page."""
    scale = dpi / 72.0
    found: dict[int, PageResult] = {}
    with PDF_LOCK, reading_pdf("the PDF's text layer"):
        document = pymupdf.open(stream=data, filetype="pdf")
        try:
            for index in pages:
                page = document[index]
                blocks: list[Block] = []
                for x0, y0, x1, y1, text, _number, kind in page.get_text("blocks", sort=True):
                    text = "\n".join(line.rstrip() for line in text.strip().splitlines())
                    if kind == TEXT_BLOCK and text:
                        blocks.append(Block("text", (x0 * scale, y0 * scale, x1 * scale, y1 * scale), text, None))
                if sum(len("".join(block.text.split())) for block in blocks) < min_chars:
                    continue
                found[index] = PageResult(
                    width=max(1, round(page.rect.width * scale)),
                    height=max(1, round(page.rect.height * scale)),
                    markdown="\n\n".join(block.text for block in blocks),
                    blocks=blocks,
                    source="text_layer",
                )
        finally:
            document.close()
    return found
