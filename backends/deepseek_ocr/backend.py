"""DeepSeek-OCR behind the unified contract: prompts in, grounded markdown and boxes out."""

from __future__ import annotations

import concurrent.futures
import os
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from PIL import Image

from backends.deepseek_ocr.config import MIN_MAX_TOKENS, DeepSeekConfig
from backends.deepseek_ocr.engines import create_engine
from backends.deepseek_ocr.engines.base import Engine, EngineDead, Generation, GenerationRequest
from backends.deepseek_ocr.finish import PageEnd, page_end
from backends.deepseek_ocr.model_files import find_model
from backends.deepseek_ocr.ngram import ngram_rule
from backends.deepseek_ocr.page_builder import PageRequest, build_page
from backends.deepseek_ocr.page_slots import PageSlots, StartedPage
from backends.deepseek_ocr.prompts import MODE_FIELD, PHRASE_FIELD, PROMPT_FIELD, choose_prompt
from shared.api_contract import PageResult
from shared.boxes_image import draw_boxes
from shared.errors import InferenceFailed, InferenceTimeout, InvalidOption, ModelNotLoaded, Overloaded
from shared.ocr_backend import HealthInfo, OCRBackend, OCROptions
from shared.options import FormField
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
    default_dpi = 144  # what DeepSeek's own PDF pipeline renders at

    def __init__(self, config: DeepSeekConfig, engine: Engine | None = None) -> None:
        self._loaded = False
        self._load_error: str | None = None
        super().__init__()
        self.config = config
        self.engine = engine if engine is not None else create_engine(config)
        # Requests admitted at once: vLLM batches up to max_num_seqs pages; the remote code runs one.
        self.max_concurrency = config.concurrency
        # The one bound on pages inside the engine, across every request.
        self.slots = PageSlots(config.pages_in_engine)

    # -- state: "loaded" means loaded and the engine still serves --------------------------------

    @property
    def loaded(self) -> bool:
        return self._loaded and self.engine.failure() is None

    @loaded.setter
    def loaded(self, value: bool) -> None:
        self._loaded = value

    @property
    def load_error(self) -> str | None:
        return self.engine.failure() if self._loaded else self._load_error

    @load_error.setter
    def load_error(self, value: str | None) -> None:
        self._load_error = value

    @property
    def model_id(self) -> str:
        return self.engine.model_label

    def load(self) -> None:
        self.engine.load()

    def option_fields(self) -> tuple[FormField, ...]:
        """Mode, prompt and phrase; ``max_tokens`` only where the engine honours it (the remote
        code's ``infer`` has no per-request cap, so there a request that sends it gets 400)."""
        fields = (MODE_FIELD, PROMPT_FIELD, PHRASE_FIELD)
        if not self.engine.honours_max_tokens:
            return fields
        cap = FormField(
            "max_tokens",
            "integer",
            "Cap on the tokens the model writes for a page; a page cut off by it says so in its warnings.",
            self.config.max_tokens,
            minimum=MIN_MAX_TOKENS,
            maximum=self.config.max_tokens,
        )
        return (*fields, cap)

    def check_options(self, options: OCROptions) -> OCROptions:
        choice = choose_prompt(options.mode, options.prompt, options.extra.get("phrase"))
        extra = dict(options.extra)
        if "max_tokens" in extra:  # only where published: the server refuses it otherwise
            extra["max_tokens"] = str(self._max_tokens(extra["max_tokens"]))
        return replace(options, mode=choice.mode, prompt=choice.prompt, extra=extra)

    def _max_tokens(self, value: str | None) -> int:
        if value is None:
            return self.config.max_tokens
        try:
            tokens = int(value)
        except ValueError:
            raise InvalidOption(f"max_tokens must be an integer, got {value!r}") from None
        if not MIN_MAX_TOKENS <= tokens <= self.config.max_tokens:
            raise InvalidOption(
                f"max_tokens must be between {MIN_MAX_TOKENS} and {self.config.max_tokens}, got {tokens}"
            )
        return tokens

    def _request_max_tokens(self, options: OCROptions) -> int:
        if not self.engine.honours_max_tokens:
            return self.config.max_tokens
        return self._max_tokens(options.extra.get("max_tokens"))

    # -- one page ---------------------------------------------------------------------------------

    def _engine_error(self, exc: BaseException) -> Exception:
        """An engine failure as the client sees it: 503 while the engine is dead, else 500."""
        reason = self.engine.failure() or (str(exc) if isinstance(exc, EngineDead) else None)
        if reason is not None:
            return ModelNotLoaded(f"{self.name} model is not loaded: {reason}")
        return InferenceFailed(f"{self.name} engine ({self.engine.name}) failed: {exc}")

    def _start(
        self, render: Callable[[], Image.Image], options: OCROptions
    ) -> tuple[Image.Image, StartedPage[Generation]]:
        """Take a slot in the engine (first come, first served), then render and submit the page."""
        assert options.prompt is not None, "check_options fills in the prompt"
        failure = self.engine.failure()
        if failure is not None:
            raise ModelNotLoaded(f"{self.name} model is not loaded: {failure}")
        if not self.slots.acquire(timeout=self.config.page_timeout):
            raise Overloaded(
                f"{self.name}: no room in the engine for {self.config.page_timeout:g} s "
                f"({self.slots.limit} pages in it, DEEPSEEK_ENGINE_PAGES)",
                retry_after=max(1.0, self.config.page_timeout / 4),
            )
        try:
            image = render()
        except BaseException:
            self.slots.release()
            raise
        request = GenerationRequest(
            image=image,
            prompt=options.prompt,
            max_tokens=self._request_max_tokens(options),
            request_id=uuid.uuid4().hex,
        )
        try:
            return image, self.slots.start(lambda: self.engine.submit(request))
        except Exception as exc:
            raise self._engine_error(exc) from exc

    def _finish(
        self, image: Image.Image, page: StartedPage[Generation], options: OCROptions, figure_prefix: str
    ) -> PageResult:
        with stage("inference"):
            try:
                # The clock started when the engine got the page, not when the page began to wait.
                generation = page.future.result(timeout=page.remaining(self.config.page_timeout))
            except concurrent.futures.TimeoutError:
                page.future.cancel()  # the engine drops the page instead of finishing it for nobody
                raise InferenceTimeout(
                    f"{self.name}: a page took longer than {self.config.page_timeout:g} s "
                    "in the engine (DEEPSEEK_PAGE_TIMEOUT)"
                ) from None
            except Exception as exc:
                raise self._engine_error(exc) from exc
        if page_end(generation.finish_reason) is PageEnd.FAILED:
            raise InferenceFailed(
                f"{self.name} engine ({self.engine.name}) ended a page with finish_reason "
                f"{generation.finish_reason or 'missing'!r} instead of a result; the page was not read, retry"
            )
        with stage("postprocess"):
            result = build_page(
                generation.text,
                image,
                PageRequest(
                    mode=options.mode or "",
                    prompt=options.prompt or "",
                    finish_reason=generation.finish_reason,
                    max_tokens=self._request_max_tokens(options),
                    figure_prefix=figure_prefix,
                ),
            )
            result.raw["output_tokens"] = generation.output_tokens
        if options.boxes_image:
            with stage("boxes_image"):
                result.boxes_image = draw_boxes(image, result.blocks, labels=True)
        return result

    def ocr_image(self, image: Image.Image, options: OCROptions) -> PageResult:
        rendered, page = self._start(lambda: image, options)
        return self._finish(rendered, page, options, figure_prefix="")

    def ocr_pdf(self, data: bytes, options: OCROptions, limits: UploadLimits) -> list[PageResult]:
        """Pages go to the engine as slots free up, so vLLM batches them with every other request's;
        a page is rendered only once it has a slot, and at most ``pages_in_engine`` of this
        request's pages wait to be finished, which bounds memory on long documents."""
        dpi = self.pdf_dpi(options)
        pages: list[PageResult] = []
        waiting: deque[tuple[int, Image.Image, StartedPage[Generation]]] = deque()

        def render(index: int) -> Image.Image:
            with stage("render"):
                return render_page(document, index, dpi, limits)

        def finish_oldest() -> None:
            index, image, page = waiting.popleft()
            pages.append(self._finish(image, page, options, figure_prefix=f"page{index + 1}_"))

        try:
            with open_pdf(data, limits) as document:
                for index in parse_page_range(options.page_range, document.page_count):
                    if len(waiting) >= self.config.pages_in_engine:
                        finish_oldest()
                    image, page = self._start(partial(render, index), options)
                    waiting.append((index, image, page))
            while waiting:
                finish_oldest()
        finally:
            for _, _, page in waiting:  # a failed page or a bad page range: drop the rest
                page.future.cancel()
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
        settings that change the text: token caps and the no-repeat n-gram rule."""
        config = self.config
        rule = ngram_rule(self.engine.variant, config)
        settings: dict[str, Any] = {
            "engine": config.engine,
            "model": config.model,
            "revision": weights_revision(config.model) if config.engine != "openai" else None,
            "variant": self.engine.variant,
            "max_tokens": config.max_tokens,
            "max_model_len": config.max_model_len,
            "ngram_size": rule.size,
            "ngram_window": rule.window,
        }
        if config.engine == "openai":
            settings.update(openai_url=config.openai_url, openai_model=config.openai_model)
        return settings

    def health(self) -> HealthInfo:
        remote = self.config.engine == "openai"
        in_engine, waiting = self.slots.counts()
        rule = ngram_rule(self.engine.variant, self.config)
        details = {
            "engine": self.engine.name,
            "model_source": self.config.model,
            "max_tokens": self.config.max_tokens,
            "max_tokens_per_request": self.engine.honours_max_tokens,
            "ngram": {"size": rule.size, "window": rule.window},
            "page_timeout_s": self.config.page_timeout,
            "engine_pages_limit": self.slots.limit,
            "engine_pages_in_flight": in_engine,
            "engine_pages_waiting": waiting,
            **self.engine.details(),
        }
        if not remote:
            details["gpu"] = self.config.gpu
            details["cuda_visible_devices"] = os.environ.get("CUDA_VISIBLE_DEVICES")
        return HealthInfo(
            device="remote" if remote else "cuda", gpu_available=self.engine.gpu_available(), details=details
        )


def create_backend(config: DeepSeekConfig, engine: Engine | None = None) -> DeepSeekOCRBackend:
    """The backend for ``config``'s engine: what it accepts follows what the engine can do
    (:meth:`DeepSeekOCRBackend.option_fields`)."""
    return DeepSeekOCRBackend(config, engine=engine if engine is not None else create_engine(config))
