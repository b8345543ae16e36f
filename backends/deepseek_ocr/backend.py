"""DeepSeek-OCR behind the unified contract: prompts in, grounded markdown and boxes out."""

from __future__ import annotations

import os
import uuid
from collections import deque
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from PIL import Image

from backends.deepseek_ocr.config import DeepSeekConfig
from backends.deepseek_ocr.engines import create_engine
from backends.deepseek_ocr.engines.base import Engine, Generation, GenerationRequest
from backends.deepseek_ocr.model_files import find_model
from backends.deepseek_ocr.page_builder import PageRequest, build_page
from backends.deepseek_ocr.prompts import choose_prompt
from shared.api_contract import PageResult
from shared.boxes_image import draw_boxes
from shared.errors import InferenceFailed, InferenceTimeout, InvalidOption
from shared.ocr_backend import HealthInfo, OCRBackend, OCROptions
from shared.pdf import open_pdf, parse_page_range, render_page
from shared.timing import stage
from shared.uploads import UploadLimits


def weights_revision(model: str) -> str | None:
    """The commit of the weights where it is recorded: the Hugging Face cache's snapshot folder, or
    the metadata ``huggingface-cli download --local-dir`` leaves; None when unknown or absent."""
    try:
        directory = find_model(model).directory
    except FileNotFoundError:
        return None
    if directory.parent.name == "snapshots":
        return directory.name
    try:
        record = directory / ".cache" / "huggingface" / "download" / "config.json.metadata"
        return record.read_text(encoding="utf-8").split("\n", 1)[0].strip() or None
    except OSError:
        return None


class DeepSeekOCRBackend(OCRBackend):
    name = "deepseek-ocr"
    raw_key = "deepseek"
    accepted_options = frozenset({"prompt", "mode", "phrase", "max_tokens"})
    default_dpi = 144  # what DeepSeek's own PDF pipeline renders at

    def __init__(self, config: DeepSeekConfig, engine: Engine | None = None) -> None:
        super().__init__()
        self.config = config
        self.engine = engine if engine is not None else create_engine(config)
        # Requests admitted at once: vLLM batches up to max_num_seqs pages; the remote code runs one.
        self.max_concurrency = config.concurrency

    @property
    def model_id(self) -> str:
        return self.engine.model_label

    def load(self) -> None:
        self.engine.load()

    def check_options(self, options: OCROptions) -> OCROptions:
        choice = choose_prompt(options.mode, options.prompt, options.extra.get("phrase"))
        extra = dict(options.extra)
        if "max_tokens" in extra:
            extra["max_tokens"] = str(self._max_tokens(extra["max_tokens"]))
        return replace(options, mode=choice.mode, prompt=choice.prompt, extra=extra)

    def _max_tokens(self, value: str | None) -> int:
        if value is None:
            return self.config.max_tokens
        try:
            tokens = int(value)
        except ValueError:
            raise InvalidOption(f"max_tokens must be an integer, got {value!r}") from None
        if not 16 <= tokens <= self.config.max_tokens:
            raise InvalidOption(f"max_tokens must be between 16 and {self.config.max_tokens}, got {tokens}")
        return tokens

    # -- one page ---------------------------------------------------------------------------------

    def _submit(self, image: Image.Image, options: OCROptions) -> Future[Generation]:
        assert options.prompt is not None, "check_options fills in the prompt"
        request = GenerationRequest(
            image=image,
            prompt=options.prompt,
            max_tokens=self._max_tokens(options.extra.get("max_tokens")),
            request_id=uuid.uuid4().hex,
        )
        try:
            return self.engine.submit(request)
        except Exception as exc:
            raise InferenceFailed(f"{self.name} engine ({self.engine.name}) failed: {exc}") from exc

    def _finish(
        self, image: Image.Image, future: Future[Generation], options: OCROptions, figure_prefix: str
    ) -> PageResult:
        with stage("inference"):
            try:
                generation = future.result(timeout=self.config.page_timeout)
            except TimeoutError:
                future.cancel()  # the engine drops the page instead of finishing it for nobody
                raise InferenceTimeout(
                    f"{self.name}: a page took longer than {self.config.page_timeout:g} s "
                    "in the engine (DEEPSEEK_PAGE_TIMEOUT)"
                ) from None
            except Exception as exc:
                raise InferenceFailed(f"{self.name} engine ({self.engine.name}) failed: {exc}") from exc
        with stage("postprocess"):
            page = build_page(
                generation.text,
                image,
                PageRequest(
                    mode=options.mode or "",
                    prompt=options.prompt or "",
                    finish_reason=generation.finish_reason,
                    max_tokens=self._max_tokens(options.extra.get("max_tokens")),
                    figure_prefix=figure_prefix,
                ),
            )
            page.raw["output_tokens"] = generation.output_tokens
        if options.boxes_image:
            with stage("boxes_image"):
                page.boxes_image = draw_boxes(image, page.blocks, labels=True)
        return page

    def ocr_image(self, image: Image.Image, options: OCROptions) -> PageResult:
        return self._finish(image, self._submit(image, options), options, figure_prefix="")

    def ocr_pdf(self, data: bytes, options: OCROptions, limits: UploadLimits) -> list[PageResult]:
        """Every page goes to the engine as soon as it is rendered, so vLLM batches them; at most
        ``concurrency`` rendered pages wait at once, which bounds memory on long documents."""
        dpi = self.pdf_dpi(options)
        pages: list[PageResult] = []
        waiting: deque[tuple[int, Image.Image, Future[Generation]]] = deque()

        def finish_oldest() -> None:
            index, image, future = waiting.popleft()
            pages.append(self._finish(image, future, options, figure_prefix=f"page{index + 1}_"))

        try:
            with open_pdf(data, limits) as document:
                for index in parse_page_range(options.page_range, document.page_count):
                    if len(waiting) >= self.config.concurrency:
                        finish_oldest()
                    with stage("render"):
                        image = render_page(document, index, dpi, limits)
                    waiting.append((index, image, self._submit(image, options)))
            while waiting:
                finish_oldest()
        finally:
            for _, _, future in waiting:  # a failed page or a bad page range: drop the rest
                future.cancel()
        return pages

    def raw_result(self, pages: list[PageResult]) -> dict[str, Any]:
        first = pages[0].raw if pages else {}
        return {
            self.raw_key: {
                "engine": self.engine.name,
                "mode": first.get("mode"),
                "prompt": first.get("prompt"),
                "pages": [page.raw for page in pages],
            }
        }

    def output_settings(self) -> dict[str, Any]:
        """The model (source, revision, variant), the engine that runs it and the generation
        settings of the configuration that change the text: token caps and the no-repeat n-gram rule."""
        config = self.config
        settings: dict[str, Any] = {
            "engine": config.engine,
            "model": config.model,
            "revision": weights_revision(config.model) if config.engine != "openai" else None,
            "variant": getattr(self.engine, "variant", None),
            "max_tokens": config.max_tokens,
            "max_model_len": config.max_model_len,
            "ngram_size": config.ngram_size,
            "ngram_window": config.ngram_window,
        }
        if config.engine == "openai":
            settings.update(openai_url=config.openai_url, openai_model=config.openai_model)
        return settings

    def health(self) -> HealthInfo:
        remote = self.config.engine == "openai"
        details = {
            "engine": self.engine.name,
            "model_source": self.config.model,
            "max_tokens": self.config.max_tokens,
            "page_timeout_s": self.config.page_timeout,
            **self.engine.details(),
        }
        if not remote:
            details["gpu"] = self.config.gpu
            details["cuda_visible_devices"] = os.environ.get("CUDA_VISIBLE_DEVICES")
        return HealthInfo(
            device="remote" if remote else "cuda", gpu_available=self.engine.gpu_available(), details=details
        )
