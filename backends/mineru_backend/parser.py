"""The seam between our server and MinerU: one object that parses a file and knows which models exist.

:class:`InProcessParser` is the real one: it calls ``mineru.parser.parse`` in this process. Tests put
a stand-in with the same methods in its place that returns ``ParseResult`` objects recorded from
real runs (``tests/fixtures/mineru/``); the end-to-end tests run this one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from backends.mineru_backend import models
from backends.mineru_backend.settings import MineruConfig, OcrMode, Tier, apply_mineru_environment

if TYPE_CHECKING:
    from mineru.parser import ParseResult


class MineruParser(Protocol):
    def prepare(self) -> None:
        """Import MinerU (after setting its environment)."""

    def version(self) -> str:
        """MinerU's version."""

    def missing_models(self, tier: Tier, *, ocr: bool) -> str | None:
        """Why ``tier`` cannot run (files missing and the command that installs them), or None;
        ``ocr``: for a document without a text layer."""

    def parse(self, path: Path, *, tier: Tier, ocr_mode: OcrMode, page_range: str) -> ParseResult:
        """Parse one file (a PDF or an image)."""


class InProcessParser:
    """``mineru.parser.parse`` in this process, with the environment from :class:`MineruConfig`."""

    def __init__(self, config: MineruConfig) -> None:
        self.config = config

    def prepare(self) -> None:
        apply_mineru_environment(self.config)
        import mineru.parser  # noqa: F401  (reads the environment now, once)

    def version(self) -> str:
        from mineru.version import __version__

        return str(__version__)

    def missing_models(self, tier: Tier, *, ocr: bool) -> str | None:
        return models.missing_models(
            tier, ocr=ocr, model_dir=self.config.model_path, vlm_server_url=self.config.vlm_server_url
        )

    def parse(self, path: Path, *, tier: Tier, ocr_mode: OcrMode, page_range: str) -> ParseResult:
        from mineru.config import VlmConfig
        from mineru.parser import parse

        vlm = VlmConfig(server_url=self.config.vlm_server_url) if self.config.vlm_server_url else None
        return parse(path, tier=tier, ocr_mode=ocr_mode, page_range=page_range, vlm_config=vlm)
