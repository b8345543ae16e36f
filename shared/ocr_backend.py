"""The abstract class every OCR backend implements."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image

from shared.api_contract import PageResult
from shared.boxes_image import draw_boxes
from shared.options import FormField, OCROptions
from shared.pdf import DEFAULT_DPI, open_pdf, parse_page_range, render_page
from shared.timing import stage
from shared.uploads import UploadLimits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthInfo:
    """What a backend knows of its own state."""

    device: str = "cpu"
    gpu_available: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)


class OCRBackend(ABC):
    """One OCR model behind the unified contract.

    Life cycle: the server calls :meth:`start` once, in a background thread while it already answers
    ``/health`` ("loading"); it calls :meth:`load` and records a failure as the reason the model is
    unavailable instead of crashing. OCR requests get 503 until the model is loaded.

    Concurrency: :meth:`ocr_image`, :meth:`ocr_pdf` and :meth:`health` may be called from several
    threads at once. The server lets at most :attr:`max_concurrency` OCR calls run at once and queues
    the rest; a backend whose engine is not thread-safe either keeps ``max_concurrency = 1`` or
    serialises inside. No OCR call reaches the backend before :meth:`load` has returned.
    """

    #: Name used in URLs, results and errors (``rapidocr``, ``deepseek-ocr``...).
    name: ClassVar[str]
    #: Key under which the backend's own output is kept in ``raw_result``.
    raw_key: ClassVar[str]
    max_concurrency: int = 1
    #: Resolution PDF pages are rendered at when the request names none.
    default_dpi: ClassVar[int] = DEFAULT_DPI

    def __init__(self) -> None:
        self.load_error: str | None = None
        self.loaded = False
        self.loading = False
        self.load_seconds: float | None = None

    @property
    @abstractmethod
    def model_id(self) -> str:
        """The model and its version, e.g. ``PP-OCRv6 small (rapidocr 3.10.0)``."""

    @abstractmethod
    def load(self) -> None:
        """Load the model. Raise with a clear message when it cannot be loaded (no weights, no GPU)."""

    @abstractmethod
    def ocr_image(self, image: Image.Image, options: OCROptions) -> PageResult:
        """OCR one RGB image; boxes in the result are in this image's pixels."""

    def option_fields(self) -> tuple[FormField, ...]:
        """This backend's own options (besides ``dpi``, ``page_range`` and ``boxes_image``) as it
        publishes them in ``/health``: name, type, choices, default, description, bounds (issue #21).
        The one list of what it takes: the server refuses any other (``prompt`` and ``mode`` included)
        with 400 before :meth:`check_options`, and so does the orchestrator."""
        return ()

    def check_options(self, options: OCROptions) -> OCROptions:
        """Check this backend's options and fill in its defaults; raise ``InvalidOption`` (400).

        Called before the model-loaded check, so a bad request is a 400 even while the model loads.
        What this returns is what the request runs with and what the result reports.
        """
        return options

    def pdf_dpi(self, options: OCROptions) -> int:
        """The resolution PDF pages are rendered at for this request."""
        return options.dpi or self.default_dpi

    def ocr_pdf(self, data: bytes, options: OCROptions, limits: UploadLimits) -> list[PageResult]:
        """OCR a PDF: by default each selected page is rendered (``options.dpi`` or :attr:`default_dpi`)
        and OCR'd in turn.

        Backends that batch pages (or read PDFs themselves) override this.
        """
        pages: list[PageResult] = []
        dpi = self.pdf_dpi(options)
        with open_pdf(data, limits) as document:
            for index in parse_page_range(options.page_range, document.page_count):
                with stage("render"):
                    image = render_page(document, index, dpi, limits)
                with stage("inference"):
                    page = self.ocr_image(image, options)
                if options.boxes_image:
                    with stage("boxes_image"):
                        page.boxes_image = draw_boxes(image, page.blocks)
                pages.append(page)
        return pages

    def health(self) -> HealthInfo:
        return HealthInfo()

    def output_settings(self) -> Mapping[str, Any]:
        """Every setting besides :attr:`model_id` that changes what this backend answers: engine
        options (a direction classifier on or off), model files, library versions. Part of
        :meth:`fingerprint`; JSON-serialisable values."""
        return {}

    def fingerprint(self) -> str:
        """A short digest of everything that decides this backend's output: its model, its
        :meth:`output_settings` and the code of its package and of ``shared``. Published in
        ``/health``; the orchestrator's result cache keys on it, so a change misses the cache."""
        material = {
            "backend": self.name,
            "model": self.model_id,
            "settings": self.output_settings(),
            "code": code_digest(type(self).__module__),
        }
        text = json.dumps(material, sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def raw_result(self, pages: list[PageResult]) -> dict[str, Any]:
        """The backend's own output, kept under :attr:`raw_key`, one entry per page."""
        return {self.raw_key: {"pages": [page.raw for page in pages]}}

    def start(self) -> None:
        """Load the model, recording failure as :attr:`load_error` (the server keeps serving health)."""
        started = time.perf_counter()
        self.loading = True
        try:
            self.load()
        except Exception as exc:  # any reason the model cannot load is reported, not raised
            self.load_error = str(exc) or type(exc).__name__
            self.loaded = False
            log.error("%s: model not loaded: %s", self.name, self.load_error)
        else:
            self.loaded = True
            self.load_error = None
        finally:
            self.loading = False
        self.load_seconds = time.perf_counter() - started


@cache
def code_digest(module: str) -> str:
    """Digest of the ``.py`` files of ``module``'s package (subpackages included) and of ``shared``:
    a deploy that changes the code that reads a page changes the fingerprint. Read once per process."""
    import importlib

    package = Path(importlib.import_module(module).__file__ or ".").parent
    digest = hashlib.sha256()
    for folder in (package, Path(__file__).parent):
        for path in sorted(folder.rglob("*.py")):
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]
