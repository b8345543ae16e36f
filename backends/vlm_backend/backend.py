"""A document VLM behind the unified contract: the page goes to an OpenAI-compatible server with its
preset's prompt and settings, and the preset's parser reads the answer into markdown and blocks."""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, replace
from typing import Any

from PIL import Image

from backends.vlm_backend.chat import chat_body
from backends.vlm_backend.config import VLMConfig
from backends.vlm_backend.figures import embed_figures
from backends.vlm_backend.images import prepare
from backends.vlm_backend.presets import preset
from backends.vlm_backend.presets.base import PageFrame, ParsedPage, Preset
from backends.vlm_backend.server import ModelServer
from shared.api_contract import PageResult
from shared.boxes_image import draw_boxes
from shared.errors import InvalidOption
from shared.ocr_backend import HealthInfo, OCRBackend
from shared.options import FormField, OCROptions
from shared.pdf import open_pdf, parse_page_range, render_page
from shared.timing import stage
from shared.uploads import UploadLimits

log = logging.getLogger(__name__)
MIN_TOKENS = 16


class VLMBackend(OCRBackend):
    """One deployed VLM; :func:`create_backend` gives each instance its catalogue name."""

    name = "vlm"
    raw_key = "vlm"

    def __init__(self, config: VLMConfig, server: ModelServer | None = None) -> None:
        self._started = False
        self._load_error: str | None = None
        super().__init__()
        self.config = config
        self.preset: Preset = preset(config.preset)
        self.server = server or ModelServer(
            config.server_url,
            config.served_model,
            backend=self.name,
            api_key=config.api_key,
            interval=config.health_interval,
        )
        self.max_concurrency = config.max_concurrency
        self.token_cap = config.max_tokens or self.preset.sampling.max_tokens

    # -- state: loaded while the model server serves the expected model ---------------------------

    @property
    def loaded(self) -> bool:
        return self._started and self.server.failure() is None

    @loaded.setter
    def loaded(self, value: bool) -> None:
        self._started = value

    @property
    def load_error(self) -> str | None:
        return self.server.failure() if self._started else self._load_error

    @load_error.setter
    def load_error(self, value: str | None) -> None:
        self._load_error = value

    @property
    def model_id(self) -> str:
        return f"{self.config.served_model} (VLM preset {self.preset.name})"

    def load(self) -> None:
        """Wait (as "loading") for a model server that is still starting; what it answers then, and
        every check after, decides whether this backend is ready."""
        self.server.wait_until_up(self.config.startup_wait)

    def health(self) -> HealthInfo:
        return HealthInfo(
            device="model server",
            details={
                "preset": self.preset.name,
                "model_server": self.config.server_url,
                "served_model": self.config.served_model,
            },
        )

    def output_settings(self) -> dict[str, Any]:
        """The preset and everything of it that changes the answer."""
        sampling = asdict(self.preset.sampling)
        sampling["extra"] = dict(self.preset.sampling.extra)
        return {
            "preset": self.preset.name,
            "sampling": sampling,
            "image": asdict(self.preset.image),
            "prompts": {name: [mode.system, mode.prompt] for name, mode in self.preset.modes.items()},
            "max_tokens": self.token_cap,
        }

    # -- options ----------------------------------------------------------------------------------

    def option_fields(self) -> tuple[FormField, ...]:
        modes = "; ".join(f"`{name}`: {mode.description.rstrip('.')}" for name, mode in self.preset.modes.items())
        fields = [
            FormField(
                "mode",
                "string",
                f"What to ask {self.preset.name} for: {modes}",
                default=self.preset.default_mode,
                choices=tuple(self.preset.modes),
            )
        ]
        if self.preset.custom_prompt:
            fields.append(
                FormField(
                    "prompt", "string", "Your own instruction instead of the mode's; the answer is read as markdown."
                )
            )
        fields.append(
            FormField(
                "max_tokens",
                "integer",
                "Most tokens the model may write for a page; a page that reaches it is cut short (a warning says so).",
                default=self.token_cap,
                minimum=MIN_TOKENS,
                maximum=self.token_cap,
            )
        )
        return tuple(fields)

    def check_options(self, options: OCROptions) -> OCROptions:
        mode = options.mode or self.preset.default_mode
        if mode not in self.preset.modes:
            raise InvalidOption(
                f"option 'mode' must be one of {', '.join(self.preset.modes)} for {self.name} "
                f"(preset {self.preset.name}), got {mode!r}"
            )
        if options.prompt is not None and not self.preset.custom_prompt:
            raise InvalidOption(
                f"option 'prompt' is not accepted by {self.name}: preset {self.preset.name} reads only the "
                f"answers to its own prompts (choose a mode: {', '.join(self.preset.modes)})"
            )
        extra = dict(options.extra)
        if "max_tokens" in extra:
            extra["max_tokens"] = str(self._max_tokens(extra["max_tokens"]))
        return replace(options, mode=mode, extra=extra)

    def _max_tokens(self, value: str | None) -> int:
        if value is None:
            return self.token_cap
        try:
            tokens = int(value)
        except ValueError:
            raise InvalidOption(f"option 'max_tokens' must be an integer, got {value!r}") from None
        if not MIN_TOKENS <= tokens <= self.token_cap:
            raise InvalidOption(f"option 'max_tokens' must be between {MIN_TOKENS} and {self.token_cap}, got {tokens}")
        return tokens

    # -- pages ------------------------------------------------------------------------------------

    def ocr_image(self, image: Image.Image, options: OCROptions) -> PageResult:
        return self._page(image, options, figure_prefix="")

    def ocr_pdf(self, data: bytes, options: OCROptions, limits: UploadLimits) -> list[PageResult]:
        """Page by page, each page's figures named apart (the orchestrator sends slices in parallel)."""
        pages: list[PageResult] = []
        with open_pdf(data, limits) as document:
            for index in parse_page_range(options.page_range, document.page_count):
                with stage("render"):
                    image = render_page(document, index, self.pdf_dpi(options), limits)
                with stage("inference"):
                    page = self._page(image, options, figure_prefix=f"page{index + 1}_")
                if options.boxes_image:
                    with stage("boxes_image"):
                        page.boxes_image = draw_boxes(image, page.blocks)
                pages.append(page)
        return pages

    def _page(self, image: Image.Image, options: OCROptions, figure_prefix: str) -> PageResult:
        failure = self.server.failure()
        if failure is not None:
            raise self.server.not_ready(failure)
        mode = options.mode or self.preset.default_mode
        max_tokens = self._max_tokens(options.extra.get("max_tokens"))
        sent = prepare(image, self.preset.image)
        chosen = self.preset.modes[mode]
        prompt = options.prompt or chosen.prompt
        answer = self.server.chat(
            chat_body(self.config.served_model, sent, prompt, self.preset.sampling, max_tokens, chosen.system),
            request_id=uuid.uuid4().hex,
            timeout=self.config.page_timeout,
        )
        with stage("postprocess"):
            frame = PageFrame(image.width, image.height, sent.width, sent.height, mode)
            parsed = self._parse(answer.text, frame, custom=options.prompt is not None)
            warnings = list(parsed.warnings)
            if answer.finish_reason == "length":
                warnings.append(
                    f"the model stopped at max_tokens ({max_tokens}) before the end of its answer: "
                    "the page may be incomplete"
                )
            markdown, source = embed_figures(image, parsed.markdown, parsed.blocks, figure_prefix)
        return PageResult(
            width=image.width,
            height=image.height,
            markdown=markdown,
            blocks=parsed.blocks,
            source_markdown=source,
            warnings=warnings,
            raw={
                "text": answer.text,
                "finish_reason": answer.finish_reason or None,
                "output_tokens": answer.output_tokens,
                "mode": mode,
                "prompt": prompt,
                "sent_size": [sent.width, sent.height],
            },
        )

    def _parse(self, text: str, frame: PageFrame, *, custom: bool) -> ParsedPage:
        """The preset's reading of the answer; a user's own prompt's answer is markdown as it is."""
        if custom:
            return ParsedPage(markdown=text.strip())
        try:
            return self.preset.parse(text, frame)
        except Exception as exc:  # a parser bug must not lose the page: the answer is kept as text
            log.exception("%s: preset %s failed to parse an answer", self.name, self.preset.name)
            return ParsedPage(
                markdown=text.strip(),
                warnings=[f"preset {self.preset.name} could not read the answer ({type(exc).__name__}); kept as text"],
            )

    def raw_result(self, pages: list[PageResult]) -> dict[str, Any]:
        return {self.raw_key: {"preset": self.preset.name, "pages": [page.raw for page in pages]}}


def create_backend(config: VLMConfig) -> VLMBackend:
    """The backend under its instance's name (``dots-ocr``...): a subclass per name, since a
    backend's name is a class attribute."""
    cls = type(f"VLMBackend[{config.name}]", (VLMBackend,), {"name": config.name, "__module__": __name__})
    return cls(config)
