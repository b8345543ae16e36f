"""PDF inspection and page rendering with PyMuPDF.

PyMuPDF is not thread-safe, and our servers handle requests on several threads, so every call into
it goes through :data:`PDF_LOCK`. Rendering is cheap next to OCR, so the lock costs little.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pymupdf
from PIL import Image

from shared.errors import CorruptFile, EncryptedPdf, InvalidOption, TooManyPages
from shared.uploads import UploadLimits, check_pixels

PDF_LOCK = threading.RLock()
DEFAULT_DPI = 144
MIN_DPI, MAX_DPI = 36, 600

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)


@contextmanager
def reading_pdf(what: str) -> Iterator[None]:
    """PyMuPDF raises many exception types (``RuntimeError``, ``FzError*``…) on broken files, often
    only when a page is touched: any of them, in this block, is the client's broken PDF (422)."""
    try:
        yield
    except (CorruptFile, EncryptedPdf, TooManyPages, InvalidOption):
        raise
    except Exception as exc:
        raise CorruptFile(f"cannot read {what}: {exc}") from None


@dataclass(frozen=True)
class PdfInfo:
    page_count: int
    page_sizes_pt: list[tuple[float, float]]


@contextmanager
def open_pdf(data: bytes, limits: UploadLimits) -> Iterator[pymupdf.Document]:
    """Open a PDF from memory, refusing encrypted, empty, broken or over-long documents."""
    with PDF_LOCK, reading_pdf("the PDF"):
        document = pymupdf.open(stream=data, filetype="pdf")
    try:
        with PDF_LOCK, reading_pdf("the PDF"):
            if document.needs_pass:
                raise EncryptedPdf("the PDF is encrypted with a password; send an unencrypted copy")
            count = document.page_count
        if count == 0:
            raise CorruptFile("the PDF has no pages")
        if count > limits.max_pdf_pages:
            raise TooManyPages(f"the PDF has {count} pages; the limit is {limits.max_pdf_pages}")
        yield document
    finally:
        with PDF_LOCK:
            document.close()


def inspect_pdf(data: bytes, limits: UploadLimits) -> PdfInfo:
    with open_pdf(data, limits) as document, PDF_LOCK, reading_pdf("the PDF's pages"):
        sizes = [(document[i].rect.width, document[i].rect.height) for i in range(document.page_count)]
    return PdfInfo(page_count=len(sizes), page_sizes_pt=sizes)


def parse_page_range(spec: str | None, page_count: int) -> list[int]:
    """``"1-3,7"`` → zero-based ``[0, 1, 2, 6]``; ``None`` or empty means every page."""
    if spec is None or not spec.strip():
        return list(range(page_count))
    pages: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        try:
            if "-" in part:
                first_text, last_text = part.split("-", 1)
                first = int(first_text)
                last = int(last_text) if last_text.strip() else page_count
            else:
                first = last = int(part)
        except ValueError:
            raise InvalidOption(f"page_range {spec!r} is not like '1-3,7'") from None
        if first < 1 or last < first:
            raise InvalidOption(f"page_range part {part!r} is not a valid range")
        if last > page_count:
            raise InvalidOption(f"page_range {spec!r} goes past the last page ({page_count})")
        pages.update(range(first - 1, last))
    return sorted(pages)


def check_dpi(dpi: int) -> int:
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise InvalidOption(f"dpi must be between {MIN_DPI} and {MAX_DPI}, got {dpi}")
    return dpi


def render_pixmap(document: pymupdf.Document, index: int, dpi: int, limits: UploadLimits) -> pymupdf.Pixmap:
    """Render one page to an RGB pixmap at ``dpi``, after checking the rendered size against the pixel limit."""
    with PDF_LOCK:
        with reading_pdf(f"page {index + 1}"):
            page = document[index]
            scale = dpi / 72.0
            width, height = round(page.rect.width * scale), round(page.rect.height * scale)
        check_pixels(width, height, limits, what=f"page {index + 1} at {dpi} dpi")
        with reading_pdf(f"page {index + 1} (rendering)"):
            return page.get_pixmap(dpi=dpi, alpha=False, colorspace=pymupdf.csRGB)


def render_page(document: pymupdf.Document, index: int, dpi: int, limits: UploadLimits) -> Image.Image:
    """Render one page to an RGB image at ``dpi`` (pixel limit checked first)."""
    pixmap = render_pixmap(document, index, dpi, limits)
    with PDF_LOCK:
        return Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
