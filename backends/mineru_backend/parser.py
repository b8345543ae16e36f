"""The seam between our server and MinerU: one object that parses a file and knows which models exist.

:class:`InProcessParser` is the real one: it calls ``mineru.parser.parse`` in this process. Tests put
a stand-in with the same methods in its place that returns real ``ParseResult`` objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from backends.mineru_backend.settings import TIERS, MineruConfig, OcrMode, Tier, apply_mineru_environment

if TYPE_CHECKING:
    from mineru.parser import ParseResult

# MinerU prepares models per deployment tier: flash reads text layers but OCRs scans with the small
# models, so it needs what basic needs; advanced uses the VLM like standard.
DEPLOYMENT_TIER: dict[Tier, str] = {"flash": "basic", "basic": "basic", "standard": "standard", "advanced": "standard"}


class MineruParser(Protocol):
    def prepare(self) -> None:
        """Import MinerU (after setting its environment)."""

    def version(self) -> str:
        """MinerU's version."""

    def missing_models(self, tier: Tier) -> str | None:
        """Why ``tier`` cannot run (files missing and the command that downloads them), or None."""

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

    def _vlm_config(self) -> object | None:
        if not self.config.vlm_server_url:
            return None
        from mineru.config import VlmConfig

        return VlmConfig(server_url=self.config.vlm_server_url)

    def missing_models(self, tier: Tier) -> str | None:
        from mineru.model.download import verify_model_repo
        from mineru.model.registry import model_repos_for_tier

        deployment_tier = DEPLOYMENT_TIER[tier]
        problems: list[str] = []
        for repo in model_repos_for_tier(deployment_tier, vlm_config=self._vlm_config()):
            result = verify_model_repo(repo)
            if not result.ready:
                problems.append(
                    f"Model repo {repo.name} is not ready under {result.root}; "
                    f"missing: {', '.join(result.missing_paths)}"
                )
        if not problems:
            return None
        return (
            f"tier '{tier}' needs model files that are not installed. "
            + ". ".join(problems)
            + f". Run: mineru-kit models download --tier {deployment_tier}"
        )

    def parse(self, path: Path, *, tier: Tier, ocr_mode: OcrMode, page_range: str) -> ParseResult:
        from mineru.parser import parse

        return parse(path, tier=tier, ocr_mode=ocr_mode, page_range=page_range, vlm_config=self._vlm_config())


def ready_tiers(parser: MineruParser) -> dict[str, bool]:
    return {tier: parser.missing_models(tier) is None for tier in TIERS}
