"""MinerU 4 behind the unified contract: uploads go to MinerU as private temp files, results come
back through :mod:`backends.mineru_backend.convert`.

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
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PIL import Image

from backends.mineru_backend.convert import to_pages
from backends.mineru_backend.parser import InProcessParser, MineruParser, ready_tiers
from backends.mineru_backend.settings import OCR_MODES, TIERS, MineruConfig, OcrMode, Tier, check_choice
from shared.api_contract import PageResult
from shared.boxes_image import draw_boxes
from shared.config import ConfigError
from shared.errors import InferenceFailed, InvalidOption, ModelNotLoaded, OCRError
from shared.ocr_backend import HealthInfo, OCRBackend
from shared.options import OCROptions
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


class MinerUBackend(OCRBackend):
    name = "mineru"
    raw_key = "mineru"
    accepted_options = frozenset({"tier", "ocr_mode"})

    def __init__(self, config: MineruConfig | None = None, parser: MineruParser | None = None) -> None:
        super().__init__()
        self.config = config or MineruConfig.from_env()
        self.parser: MineruParser = parser or InProcessParser(self.config)
        self.max_concurrency = self.config.max_concurrency
        self._imported = False  # MinerU imported with its environment: its model checks can run
        self._version = installed_version()

    @property
    def model_id(self) -> str:
        return f"MinerU {self._version} ({self.config.tier})"

    def load(self) -> None:
        """Import MinerU and check the default tier's models; MinerU's reason if they are missing."""
        self.parser.prepare()
        self._imported = True
        self._version = self.parser.version()
        missing = self.parser.missing_models(self.config.tier)
        if missing:
            raise RuntimeError(missing)

    # -- options --------------------------------------------------------------------------------
    def check_options(self, options: OCROptions) -> OCROptions:
        """``tier`` and ``ocr_mode`` checked (400 even while loading) and filled in from the configuration."""
        try:
            tier = check_choice("tier", options.extra.get("tier") or self.config.tier, TIERS)
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
        handle, name = tempfile.mkstemp(prefix="mineru-", suffix=suffix, dir=self.config.tmp_dir)
        os.close(handle)
        try:
            yield Path(name)
        finally:
            Path(name).unlink(missing_ok=True)

    def _parse(self, path: Path, options: OCROptions, page_range: str) -> tuple[ParseResult, Tier, OcrMode]:
        tier, ocr_mode = self.request_settings(options)
        missing = self.parser.missing_models(tier)
        if missing:
            raise ModelNotLoaded(f"{self.name} model is not loaded: {missing}")
        try:
            result = self.parser.parse(path, tier=tier, ocr_mode=ocr_mode, page_range=page_range)
        except OCRError:
            raise
        except Exception as exc:  # MinerU's errors end the request as JSON naming the backend
            from mineru.errors import InvalidRequestError

            if isinstance(exc, InvalidRequestError):  # MinerU refused the request itself: the client's to fix
                raise InvalidOption(f"mineru refused the request: {exc}") from None
            log.exception("mineru parse failed")
            raise InferenceFailed(f"mineru failed to parse the document: {type(exc).__name__}: {exc}") from None
        return result, tier, ocr_mode

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

    def ocr_image(self, image: Image.Image, options: OCROptions) -> PageResult:
        with self._private_file(".png") as path:
            image.save(path, format="PNG")
            with stage("mineru"):
                result, tier, ocr_mode = self._parse(path, options, "")
        if len(result.pages) != 1:
            raise InferenceFailed(f"mineru returned {len(result.pages)} pages for one image")
        with stage("postprocess"):
            [page] = to_pages(result, [image.size], lambda _position: image)
        page.raw = self._raw(result, tier, ocr_mode, "")
        return page

    def ocr_pdf(self, data: bytes, options: OCROptions, limits: UploadLimits) -> list[PageResult]:
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
                    result, tier, ocr_mode = self._parse(path, options, page_range)
            if len(result.pages) != len(selected):
                raise InferenceFailed(f"mineru returned {len(result.pages)} pages for {len(selected)} requested")
            sizes = [(round(sizes_pt[i][0] * dpi / 72), round(sizes_pt[i][1] * dpi / 72)) for i in selected]
            rendered: dict[int, Image.Image] = {}  # pages are rendered only for figures and boxes, once

            def page_image(position: int) -> Image.Image:
                if position not in rendered:
                    rendered[position] = render_page(document, selected[position], dpi, limits)
                return rendered[position]

            with stage("postprocess"):
                pages = to_pages(result, sizes, page_image, page_numbers=[i + 1 for i in selected])
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
            "default_tier": self.config.tier,
            "default_ocr_mode": self.config.ocr_mode,
            "model_dir": os.path.expanduser(self.config.model_dir),
            "vlm_server_url": self.config.vlm_server_url or None,
            "device_mode": self.config.device_mode,
            "mineru": installed_version(),  # "not installed" where the package is absent
        }

    def health(self) -> HealthInfo:
        details: dict[str, Any] = {
            "default_tier": self.config.tier,
            "mineru_version": self._version,
            "model_dir": os.path.expanduser(self.config.model_dir),
            "vlm_server_url": self.config.vlm_server_url or None,
        }
        if self._imported:  # MinerU's own readiness check: a few file lookups
            details["tiers_ready"] = ready_tiers(self.parser)
        device = self.config.device_mode
        # The NVIDIA driver's control node tells that a GPU is there without importing torch.
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
        gpu = device.startswith("cuda") and visible not in ("", "-1") and Path("/dev/nvidiactl").exists()
        return HealthInfo(device=device, gpu_available=gpu, details=details)
