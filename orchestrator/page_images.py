"""Page images the orchestrator serves itself, so that a client can draw every backend's boxes over
one clean page: a job's page as it was uploaded or rendered (``GET /jobs/<id>/pages/<n>/image``) and
a PDF's first pages before it runs (``POST /pdf/preview``). PNG for rendered pages; an uploaded image
is sent as it came where a browser shows it as the backends saw it (PNG, JPEG, WebP, upright)."""

from __future__ import annotations

import base64
import io
import warnings
from dataclasses import dataclass

import pymupdf
from PIL import Image

from shared.errors import InvalidOption, TooManyPixels
from shared.options import FormField
from shared.pdf import MAX_DPI, MIN_DPI, PDF_LOCK, open_pdf, parse_page_range, reading_pdf, render_pixmap
from shared.uploads import DetectedFormat, UploadLimits, decode_image

#: Formats a browser shows as an ``<img>`` the way Pillow decodes them (TIFF it cannot; BMP's
#: variants it reads unlike Pillow does): sent as uploaded when upright, else as PNG.
AS_UPLOADED = frozenset({"png", "jpeg", "webp"})
EXIF_ORIENTATION = 0x0112
PNG = "image/png"

#: ``POST /pdf/preview``: pages at most in one answer, the default pages and resolution (a thumbnail).
PREVIEW_MAX_PAGES = 8
PREVIEW_DEFAULT_PAGES = 4
PREVIEW_DPI = 48
PREVIEW_PAGES = FormField(
    "page_range",
    "string",
    f"Pages to render, 1-based, e.g. `1-3,5` (at most {PREVIEW_MAX_PAGES}); default: the first "
    f"{PREVIEW_DEFAULT_PAGES}.",
)
PREVIEW_DPI_FIELD = FormField(
    "dpi",
    "integer",
    f"Resolution to render at (default {PREVIEW_DPI}: thumbnails); a page at the dpi a result used has its "
    "size in pixels.",
    PREVIEW_DPI,
    minimum=MIN_DPI,
    maximum=MAX_DPI,
)
PREVIEW_FORM = (PREVIEW_PAGES, PREVIEW_DPI_FIELD)


@dataclass(frozen=True)
class PageImage:
    data: bytes
    mime: str
    width: int
    height: int

    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=3)
    return out.getvalue()


def _upright_single_frame(data: bytes) -> tuple[int, int] | None:
    """The size of an image a browser shows as the backends saw it (one frame, no EXIF turn);
    ``None`` when it must be decoded and sent as PNG instead."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:  # the header only
                if getattr(image, "n_frames", 1) > 1 or image.getexif().get(EXIF_ORIENTATION, 1) not in (0, 1):
                    return None
                width, height = image.size
                return width, height
    except Exception:
        return None  # anything odd: decode it as the backends did


def image_page(data: bytes, fmt: DetectedFormat, limits: UploadLimits) -> PageImage:
    """An uploaded image as the backends read it: as uploaded where a browser shows it so, else the
    decoded image (first frame, upright per its EXIF orientation, on white) as PNG."""
    if fmt.name in AS_UPLOADED:
        size = _upright_single_frame(data)
        if size is not None:
            return PageImage(data, fmt.mime, *size)
    image, _notes = decode_image(data, fmt, limits)
    return PageImage(_png(image), PNG, *image.size)


def _render(document: pymupdf.Document, index: int, dpi: int, limits: UploadLimits) -> PageImage:
    pixmap = render_pixmap(document, index, dpi, limits)
    with PDF_LOCK:
        return PageImage(pixmap.tobytes("png"), PNG, pixmap.width, pixmap.height)


def page_dpi(document: pymupdf.Document, index: int, width_px: int | None, default: int) -> int:
    """The dpi a result read page ``index`` at, from its width in pixels (``width_px``; rounded,
    within the allowed range); ``default`` when no result has that page yet."""
    if not width_px:
        return default
    with PDF_LOCK, reading_pdf(f"page {index + 1}"):
        width_pt = document[index].rect.width
    return min(MAX_DPI, max(MIN_DPI, round(width_px * 72.0 / max(width_pt, 1e-6))))


def pdf_page(
    data: bytes, index: int, limits: UploadLimits, *, dpi: int | None, width_px: int | None, default: int
) -> PageImage:
    """Page ``index`` (zero-based) of a PDF, at ``dpi``, else at the dpi a result read it at."""
    with open_pdf(data, limits) as document:
        return _render(document, index, dpi or page_dpi(document, index, width_px, default), limits)


@dataclass(frozen=True)
class Preview:
    page_count: int
    dpi: int
    #: (page number, its image), in page order.
    pages: list[tuple[int, PageImage]]


def preview_pages(spec: str | None, page_count: int) -> list[int]:
    """The zero-based pages a preview renders: ``spec`` (a page range), else the first few."""
    if spec is None or not spec.strip():
        return list(range(min(PREVIEW_DEFAULT_PAGES, page_count)))
    pages = parse_page_range(spec, page_count)
    if len(pages) > PREVIEW_MAX_PAGES:
        raise InvalidOption(f"page_range selects {len(pages)} pages; a preview renders at most {PREVIEW_MAX_PAGES}")
    return pages


def preview_dpi(value: str | None) -> int:
    if value is None or not value.strip():
        return PREVIEW_DPI
    try:
        dpi = int(value)
    except ValueError:
        raise InvalidOption(f"dpi must be an integer, got {value!r}") from None
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise InvalidOption(f"dpi must be between {MIN_DPI} and {MAX_DPI}, got {dpi}")
    return dpi


def render_preview(data: bytes, limits: UploadLimits, *, spec: str | None, dpi: int) -> Preview:
    """The pages ``spec`` selects (else the first few) at ``dpi``; all of them together within the
    pixel limit of one image (413 ``too_many_pixels`` otherwise)."""
    with open_pdf(data, limits) as document:
        with PDF_LOCK, reading_pdf("the PDF"):
            count = document.page_count
        indices = preview_pages(spec, count)
        scale = dpi / 72.0
        with PDF_LOCK, reading_pdf("the PDF's pages"):
            sizes = [(round(document[i].rect.width * scale), round(document[i].rect.height * scale)) for i in indices]
        total = sum(width * height for width, height in sizes)
        if total > limits.max_pixels:
            raise TooManyPixels(
                f"{len(indices)} pages at {dpi} dpi are {total} pixels together; the limit is {limits.max_pixels} "
                "(ask for fewer pages or a lower dpi)"
            )
        return Preview(count, dpi, [(index + 1, _render(document, index, dpi, limits)) for index in indices])
