"""Upload decoding and limits, shared by the orchestrator and every backend.

Formats are told apart by their first bytes, never by the file name. Images are checked for their
pixel count from the header alone, before any pixel is decoded, so a small file that would expand to
gigabytes (a decompression bomb) is refused without allocating it.
"""

from __future__ import annotations

import io
import os
import re
import struct
import warnings
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

from shared.config import env_int
from shared.errors import CorruptFile, EmptyUpload, PayloadTooLarge, TooManyPixels, UnsupportedMediaType

MiB = 1024 * 1024

# We check the pixel count ourselves before decoding; Pillow's own guard stays on as a second fence.
Image.MAX_IMAGE_PIXELS = 200_000_000


#: Multipart framing (boundaries, part headers) on top of the parts themselves.
FORM_FRAMING_BYTES = 256 * 1024
#: The one form field allowed to be long: a comparison's reference text (a field or a file part).
REFERENCE_FIELD = "reference"


@dataclass(frozen=True)
class UploadLimits:
    """Limits applied to every request body, on every path: the document, the form's other fields."""

    max_bytes: int = 50 * MiB
    max_pixels: int = 60_000_000
    max_pdf_pages: int = 200
    #: Any form field but the reference.
    max_field_bytes: int = 64 * 1024
    max_reference_chars: int = 1_000_000
    max_form_parts: int = 64

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> UploadLimits:
        return cls(
            max_bytes=env_int("OCR_MAX_UPLOAD_BYTES", cls.max_bytes, env, minimum=1),
            max_pixels=env_int("OCR_MAX_IMAGE_PIXELS", cls.max_pixels, env, minimum=1),
            max_pdf_pages=env_int("OCR_MAX_PDF_PAGES", cls.max_pdf_pages, env, minimum=1),
            max_field_bytes=env_int("OCR_MAX_FIELD_BYTES", cls.max_field_bytes, env, minimum=1024),
            max_reference_chars=env_int("OCR_MAX_REFERENCE_CHARS", cls.max_reference_chars, env, minimum=1),
            max_form_parts=env_int("OCR_MAX_FORM_PARTS", cls.max_form_parts, env, minimum=4),
        )

    @property
    def max_reference_bytes(self) -> int:
        return 4 * self.max_reference_chars  # UTF-8 takes at most 4 bytes a character

    def max_part_bytes(self, name: str) -> int:
        """The most bytes form field ``name`` may hold (file parts are bounded by the body limit)."""
        return self.max_reference_bytes if name == REFERENCE_FIELD else self.max_field_bytes

    def published(self) -> dict[str, object]:
        """What a client may check before it uploads (the orchestrator's ``/health`` ``limits``)."""
        return {
            "max_bytes": self.max_bytes,
            "max_pixels": self.max_pixels,
            "max_pdf_pages": self.max_pdf_pages,
            "formats": list(ACCEPTED_FORMATS),
        }

    @property
    def max_body_bytes(self) -> int:
        """The request body limit: the document, a reference of the longest kind, the other fields."""
        return self.max_bytes + self.max_reference_bytes + FORM_FRAMING_BYTES


DocumentKind = Literal["image", "pdf"]


@dataclass(frozen=True)
class DetectedFormat:
    kind: DocumentKind
    name: str  # png, jpeg, webp, tiff, bmp, pdf
    mime: str


_PDF = DetectedFormat("pdf", "pdf", "application/pdf")
#: Every format :func:`detect_format` accepts, by the name it gives (published in ``/health``).
ACCEPTED_FORMATS = ("png", "jpeg", "webp", "tiff", "bmp", "pdf")


def detect_format(data: bytes) -> DetectedFormat:
    """Tell the format from the content's leading bytes. Raises on empty or unknown content."""
    if not data:
        raise EmptyUpload("the uploaded file is empty")
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return DetectedFormat("image", "png", "image/png")
    if head.startswith(b"\xff\xd8\xff"):
        return DetectedFormat("image", "jpeg", "image/jpeg")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return DetectedFormat("image", "webp", "image/webp")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return DetectedFormat("image", "tiff", "image/tiff")
    if head[:2] == b"BM" and len(data) >= 26:
        return DetectedFormat("image", "bmp", "image/bmp")
    # The PDF header may be preceded by junk; readers accept it within the first 1024 bytes.
    if b"%PDF-" in data[:1024]:
        return _PDF
    raise UnsupportedMediaType(
        "unsupported file type: expected PNG, JPEG, WebP, TIFF, BMP or PDF (detected from the content, not the name)"
    )


def check_byte_size(size: int, limits: UploadLimits) -> None:
    if size == 0:
        raise EmptyUpload("the uploaded file is empty")
    if size > limits.max_bytes:
        raise PayloadTooLarge(f"upload is {size} bytes; the limit is {limits.max_bytes} bytes")


def check_pixels(width: int, height: int, limits: UploadLimits, what: str = "image") -> None:
    if width <= 0 or height <= 0:
        raise CorruptFile(f"{what} has no pixels ({width}x{height})")
    if width * height > limits.max_pixels:
        raise TooManyPixels(
            f"{what} is {width}x{height} = {width * height} pixels; the limit is {limits.max_pixels} pixels"
        )


_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "tiff": "TIFF", "bmp": "BMP"}
#: What Pillow raises on malformed image data: besides OSError/ValueError, its plugins let TypeError
#: ("Missing dimensions" in a TIFF's second frame), KeyError, IndexError, EOFError and struct.error out.
_MALFORMED = (OSError, ValueError, SyntaxError, TypeError, KeyError, IndexError, EOFError, struct.error)


def _open_header(data: bytes, fmt: DetectedFormat, limits: UploadLimits) -> Image.Image:
    """Open lazily: Pillow reads only the header here, no pixel data."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[fmt.name]])
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(f"image is over the limit of {limits.max_pixels} pixels ({exc})") from None
    except (UnidentifiedImageError, *_MALFORMED) as exc:
        raise CorruptFile(f"cannot read the {fmt.name.upper()} image: {exc}") from None
    return image


def image_size(data: bytes, fmt: DetectedFormat, limits: UploadLimits) -> tuple[int, int]:
    """Width and height from the header, checked against the pixel limit."""
    with _open_header(data, fmt, limits) as image:
        width, height = image.size
    check_pixels(width, height, limits)
    return width, height


def decode_image(data: bytes, fmt: DetectedFormat, limits: UploadLimits) -> tuple[Image.Image, list[str]]:
    """Decode an image to RGB, upright per its EXIF orientation. Returns the image and warnings."""
    notes: list[str] = []
    image = _open_header(data, fmt, limits)
    try:
        check_pixels(*image.size, limits)
        frames = getattr(image, "n_frames", 1)
        if frames > 1:
            notes.append(f"the {fmt.name.upper()} has {frames} frames; only the first was read")
        image.load()
        image = ImageOps.exif_transpose(image) or image
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            background = Image.new("RGB", rgba.size, "white")
            background.paste(rgba, mask=rgba.getchannel("A"))
            return background, notes
        if image.mode == "I;16" or image.mode == "I":
            image = image.point(lambda v: v / 256).convert("L")
        return image.convert("RGB"), notes
    except (Image.DecompressionBombError, *_MALFORMED) as exc:
        raise CorruptFile(f"cannot decode the {fmt.name.upper()} image: {exc}") from None


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")


def clean_filename(name: str | None) -> str | None:
    """A label for the result, never a path: directory parts and control characters removed."""
    if not name:
        return None
    base = os.path.basename(name.replace("\\", "/"))
    base = _UNSAFE_NAME.sub("", base).strip()[:255]
    return base or None


def check_route_kind(expected: DocumentKind | None, fmt: DetectedFormat) -> None:
    """``/ocr/image`` takes images and ``/ocr/pdf`` PDFs; ``/ocr`` (``expected=None``) takes both."""
    if expected is not None and fmt.kind != expected:
        article = "an image" if expected == "image" else "a PDF"
        raise UnsupportedMediaType(
            f"/ocr/{expected} takes {article}; this upload is {fmt.name.upper()} (use /ocr/{fmt.kind} or /ocr)"
        )
