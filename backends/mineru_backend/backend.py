"""MinerU 4 behind the unified contract: uploads go to MinerU as private temp files, results come
back through :mod:`backends.mineru_backend.convert`.

Tiers: each request names one (``tier``) or gets the default (``MINERU_TIER``; ``auto``: the best
tier whose models are installed, chosen at load). Each tier's models are checked on their own, per
request and in ``/health``: flash reads born-digital PDFs with no model files anywhere, the other
tiers (and flash on a scan or an image) need MinerU's models, and a request for one whose models are
missing gets 503 with the command that installs them.

Concurrency: MinerU keeps its models as per-process singletons and serialises the small-model stages
(layout, OCR, formulas, tables) per device with a lock; the in-process VLM engine is one per process
too. Running requests side by side therefore buys nothing on one GPU and multiplies the memory of
the pages in flight, so by default one request runs at a time (``MINERU_MAX_CONCURRENCY``, default
1) and the server's work gate queues the others; ``/health`` reports ``in_flight`` and ``queued``.
With a separate VLM server (``MINERU_VLM_SERVER_URL``) a second slot lets one request's VLM calls
overlap another's small-model stage.
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PIL import Image

from backends.mineru_backend.convert import PagesMismatch, to_pages
from backends.mineru_backend.failures import engine_died, translate
from backends.mineru_backend.parser import InProcessParser, MineruParser
from backends.mineru_backend.settings import (
    AUTO_TIER_ORDER,
    OCR_MODES,
    TIERS,
    MineruConfig,
    OcrMode,
    Tier,
    check_choice,
    gpu_present,
)
from backends.mineru_backend.warmup import WARMUP_TEXT, warmup_mode, warmup_pdf
from shared.api_contract import PageResult
from shared.boxes_image import draw_boxes
from shared.config import ConfigError
from shared.errors import InferenceFailed, InvalidOption, LibraryBug, ModelNotLoaded, OCRError
from shared.ocr_backend import HealthInfo, OCRBackend
from shared.options import FormField, OCROptions
from shared.pdf import PDF_LOCK, open_pdf, parse_page_range, render_page
from shared.timing import stage
from shared.uploads import UploadLimits

if TYPE_CHECKING:
    from mineru.parser import ParseResult

log = logging.getLogger(__name__)


def installed_version() -> str:
    """MinerU's version from its distribution metadata (importing mineru would read its environment)."""
    try:
        return metadata.version("mineru")
    except metadata.PackageNotFoundError:
        return "not installed"


def exit_worker(delay: float = 1.0) -> None:
    """End this process gracefully after ``delay`` seconds (the answer in hand is sent first): under
    gunicorn the master starts a new worker, under supervisord a dead master is started again."""
    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGTERM))
    timer.daemon = True
    timer.start()


class MinerUBackend(OCRBackend):
    name = "mineru"
    raw_key = "mineru"

    def __init__(
        self,
        config: MineruConfig | None = None,
        parser: MineruParser | None = None,
        *,
        restart: Callable[[], None] = exit_worker,
    ) -> None:
        super().__init__()
        self.config = config or MineruConfig.from_env()
        self.parser: MineruParser = parser or InProcessParser(self.config)
        self.max_concurrency = self.config.max_concurrency
        self.default_tier: str = self.config.tier  # "auto" until load() picks one
        self._restart = restart
        self._imported = False  # MinerU imported with its environment: its model checks can run
        self._version = installed_version()
        self._waiting_for: Tier | None = None  # the default tier, while its models are missing
        self._reload_lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return f"MinerU {self._version} ({self.default_tier})"

    # -- loading --------------------------------------------------------------------------------
    def load(self) -> None:
        """Import MinerU, pick the default tier, check its models and warm it up with a tiny PDF."""
        self.parser.prepare()
        self._imported = True
        self._version = self.parser.version()
        tier = self._chosen_default()
        missing = self.parser.missing_models(tier, ocr=False)
        if missing:
            self._waiting_for = tier
            ready = [t for t in TIERS if self.parser.missing_models(t, ocr=False) is None]
            raise RuntimeError(
                f"{missing}. The server picks the models up once they are there, without a restart; "
                f"MINERU_TIER=auto would serve the tiers ready now ({', '.join(ready)})"
            )
        self._waiting_for = None
        self._warm_up(tier)
        self.default_tier = tier

    def _chosen_default(self) -> Tier:
        if self.config.tier != "auto":
            return self.config.tier
        return next(t for t in AUTO_TIER_ORDER if t == "flash" or self.parser.missing_models(t, ocr=False) is None)

    def _warm_up(self, tier: Tier) -> None:
        with self._private_file(".pdf") as path:
            path.write_bytes(warmup_pdf())
            try:
                result = self._run(path, tier, warmup_mode(tier), "")
            except OCRError as exc:
                raise RuntimeError(f"the warm-up parse at tier '{tier}' failed: {exc.message}") from None
        text = result.markdown()
        if len(result.pages) != 1 or (tier == "flash" and WARMUP_TEXT not in text):
            raise RuntimeError(f"the warm-up parse at tier '{tier}' did not read its page: {text[:200]!r}")

    def _reload_when_installed(self) -> None:
        """Load again, in the background, once the default tier's missing models are there."""
        tier = self._waiting_for
        if tier is None or self.loading or not self._reload_lock.acquire(blocking=False):
            return
        try:
            if self._waiting_for is not None and self.parser.missing_models(tier, ocr=False) is None:
                self._waiting_for = None
                self.loading = True  # at once: the next /health must not start a second load
                threading.Thread(target=self.start, name="reload-mineru", daemon=True).start()
        finally:
            self._reload_lock.release()

    # -- options --------------------------------------------------------------------------------
    def option_fields(self) -> tuple[FormField, ...]:
        """``tier`` (its default the one chosen at load; none before) and ``ocr_mode``."""
        return (
            FormField(
                "tier",
                "string",
                "MinerU pipeline: `flash` (fast, text layer and OCR), `basic`, `standard` or `advanced` "
                "(layout models, slower and better); only tiers whose models are installed run.",
                self.default_tier if self.default_tier in TIERS else None,
                choices=TIERS,
            ),
            FormField(
                "ocr_mode",
                "string",
                "`auto`: OCR where a PDF page has no usable text layer; `txt`: read the text layer; "
                "`ocr`: OCR every page.",
                self.config.ocr_mode,
                choices=OCR_MODES,
            ),
        )

    def check_options(self, options: OCROptions) -> OCROptions:
        """``tier`` and ``ocr_mode`` checked (400 even while loading) and filled in from the configuration."""
        given = options.extra.get("tier")
        try:
            # Without a tier, the default; "auto" only until load() has chosen one (the model is
            # not loaded then, so the request gets 503 before it could run).
            tier = check_choice("tier", given, TIERS) if given else self.default_tier
            ocr_mode = check_choice("ocr_mode", options.extra.get("ocr_mode") or self.config.ocr_mode, OCR_MODES)
        except ConfigError as exc:
            raise InvalidOption(str(exc)) from None
        return replace(options, extra={**options.extra, "tier": tier, "ocr_mode": ocr_mode})

    def request_settings(self, options: OCROptions) -> tuple[Tier, OcrMode]:
        checked = self.check_options(options)  # already done by the server; cheap, and direct callers exist
        return cast(Tier, checked.extra["tier"]), cast(OcrMode, checked.extra["ocr_mode"])

    # -- running MinerU -------------------------------------------------------------------------
    @contextmanager
    def _private_file(self, suffix: str) -> Iterator[Path]:
        """A temp file only this user can read (mkstemp: 0600), removed whatever happens."""
        if self.config.tmp_dir:
            os.makedirs(self.config.tmp_dir, mode=0o700, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix="mineru-", suffix=suffix, dir=self.config.tmp_dir)
        os.close(handle)
        try:
            yield Path(name)
        finally:
            Path(name).unlink(missing_ok=True)

    def _run(self, path: Path, tier: Tier, ocr_mode: OcrMode, page_range: str, *, scan: bool = False) -> ParseResult:
        """MinerU's parse of ``path``; its failures as our errors. ``scan``: no text layer (an image)."""
        missing = self.parser.missing_models(tier, ocr=scan or ocr_mode == "ocr")
        if missing:
            raise ModelNotLoaded(f"{self.name} model is not loaded: {missing}")
        try:
            return self.parser.parse(path, tier=tier, ocr_mode=ocr_mode, page_range=page_range)
        except OCRError:
            raise
        except Exception as exc:  # MinerU's errors end the request as JSON naming the backend
            if engine_died(exc):
                raise self._engine_dead(exc) from None
            error = translate(exc, name=self.name, missing_reason=lambda: self.parser.missing_models(tier, ocr=True))
            if isinstance(error, (InferenceFailed, LibraryBug)):
                log.exception("mineru parse failed")
            raise error from None

    def _engine_dead(self, exc: Exception) -> ModelNotLoaded:
        """MinerU latches a dead VLM engine: this process can parse nothing more at that tier. Not
        ready from now on, and the worker ends so that a new one starts with a new engine."""
        self.loaded = False
        self.load_error = (
            f"MinerU's VLM engine died ({type(exc).__name__}: {exc}); this worker process exits and is "
            "started again with a new engine"
        )
        log.error("mineru: %s", self.load_error)
        self._restart()
        return ModelNotLoaded(f"{self.name} model is not loaded: {self.load_error}")

    def _raw(self, result: ParseResult, tier: Tier, ocr_mode: OcrMode, page_range: str) -> dict[str, Any]:
        return {
            "content": result.to_dict(),
            "metadata": {
                "tier": tier,
                "ocr_mode": ocr_mode,
                "page_range": page_range or "all",
                "version": self._version,
                "vlm_server_url": self.config.vlm_server_url or None,
            },
        }

    def _pages(
        self, result: ParseResult, indices: list[int], sizes: list[tuple[int, int]], image: Callable[[int], Image.Image]
    ) -> list[PageResult]:
        try:
            return to_pages(result, indices, sizes, image)
        except PagesMismatch as exc:
            raise InferenceFailed(str(exc)) from None

    def ocr_image(self, image: Image.Image, options: OCROptions) -> PageResult:
        tier, ocr_mode = self.request_settings(options)
        if ocr_mode == "txt":
            raise InvalidOption(
                "ocr_mode=txt reads a PDF's text layer and an image has none: MinerU would return the "
                "picture as one figure without its text. Use ocr_mode=auto or ocr for images"
            )
        with self._private_file(".png") as path:
            image.save(path, format="PNG")
            with stage("mineru"):
                result = self._run(path, tier, ocr_mode, "", scan=True)
        with stage("postprocess"):
            [page] = self._pages(result, [0], [image.size], lambda _position: image)
        page.raw = self._raw(result, tier, ocr_mode, "")
        return page

    def ocr_pdf(self, data: bytes, options: OCROptions, limits: UploadLimits) -> list[PageResult]:
        tier, ocr_mode = self.request_settings(options)
        dpi = self.pdf_dpi(options)
        with open_pdf(data, limits) as document:
            with PDF_LOCK:
                count = document.page_count
                sizes_pt = [(document[i].rect.width, document[i].rect.height) for i in range(count)]
            selected = parse_page_range(options.page_range, count)  # our 400 for a bad range, before MinerU
            page_range = ",".join(str(i + 1) for i in selected) if options.page_range else ""
            with self._private_file(".pdf") as path:
                path.write_bytes(data)
                with stage("mineru"):
                    result = self._run(path, tier, ocr_mode, page_range)
            sizes = [(round(sizes_pt[i][0] * dpi / 72), round(sizes_pt[i][1] * dpi / 72)) for i in selected]
            rendered: dict[int, Image.Image] = {}  # pages are rendered only for figures and boxes, once

            def page_image(position: int) -> Image.Image:
                if position not in rendered:
                    rendered[position] = render_page(document, selected[position], dpi, limits)
                return rendered[position]

            with stage("postprocess"):
                pages = self._pages(result, selected, sizes, page_image)
                if options.boxes_image:
                    for position, page in enumerate(pages):
                        page.boxes_image = draw_boxes(page_image(position), page.blocks)
        raw = self._raw(result, tier, ocr_mode, page_range)
        for page in pages:
            page.raw = raw
        return pages

    def raw_result(self, pages: list[PageResult]) -> dict[str, Any]:
        """One MinerU document per request: ``{content: middle JSON, metadata}`` (every page holds it)."""
        return {self.raw_key: pages[0].raw if pages else None}

    def output_settings(self) -> dict[str, Any]:
        """What decides MinerU's answer besides the request: the default tier and OCR mode (used when
        a request names none), the models (their folder, the VLM server), the device and the version."""
        return {
            "default_tier": self.default_tier,
            "default_ocr_mode": self.config.ocr_mode,
            "model_dir": self.config.model_path,
            "vlm_server_url": self.config.vlm_server_url or None,
            "device_mode": self.config.resolved_device(),
            "mineru": installed_version(),  # "not installed" where the package is absent
        }

    # -- health ---------------------------------------------------------------------------------
    def tier_readiness(self) -> dict[str, Any]:
        """Each tier on its own (MinerU's own file checks, so newly installed models show at once):
        ``tiers_ready``; ``scans_ready`` (flash on a document without a text layer); and for each
        tier that cannot run, ``missing_models`` with why and the command that installs them."""
        missing = {tier: self.parser.missing_models(tier, ocr=False) for tier in TIERS}
        scans = self.parser.missing_models("flash", ocr=True)
        return {
            "tiers_ready": {tier: reason is None for tier, reason in missing.items()},
            "scans_ready": scans is None,
            "missing_models": {tier: reason for tier, reason in missing.items() if reason},
        }

    def health(self) -> HealthInfo:
        details: dict[str, Any] = {
            "default_tier": self.default_tier,
            "mineru_version": self._version,
            "model_dir": self.config.model_path,
            "vlm_server_url": self.config.vlm_server_url or None,
        }
        if self._imported:  # MinerU's own readiness check: a few file lookups
            try:
                details.update(self.tier_readiness())
            except Exception as exc:  # /health answers whatever MinerU's checks do
                details["tiers_error"] = f"{type(exc).__name__}: {exc}"
            self._reload_when_installed()
        device = self.config.resolved_device()
        return HealthInfo(device=device, gpu_available=device.startswith("cuda") and gpu_present(), details=details)
