"""What each tier needs from MinerU's model folder on this machine, and the command that installs it.

MinerU prepares models per *deployment* tier: ``basic`` (the small models: layout, OCR, formulas,
tables) and ``standard`` (those and the VLM). ``flash`` reads a born-digital PDF's text layer with no
model at all, but OCRs a scan or an image with basic's models; ``advanced`` needs what standard needs.
Which repositories that means depends on this process: the small models are ONNX on a CPU and torch
on a GPU with the torch stack, the VLM is GGUF for llama.cpp (CPU) or the original weights for vLLM,
and no local VLM at all with ``MINERU_VLM_SERVER_URL``. MinerU's own registry resolves all three.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from backends.mineru_backend.settings import Tier


def deployment_tier(tier: Tier, *, ocr: bool) -> str | None:
    """The model set ``tier`` needs; ``ocr``: the document has no text layer to read (a scan, an
    image, ``ocr_mode=ocr``). None: no model files at all (flash on a born-digital PDF)."""
    if tier == "flash":
        return "basic" if ocr else None
    return "basic" if tier == "basic" else "standard"


def mineru_kit() -> str:
    """MinerU's command beside this interpreter (the backend's venv), else the bare name."""
    beside = Path(sys.executable).with_name("mineru-kit")
    return str(beside) if beside.exists() else "mineru-kit"


def download_command(deployment: str, *, model_dir: str, vlm_server_url: str) -> str:
    """The exact command that installs ``deployment``'s models for this process's device."""
    from mineru.model.runtime.device import resolve_small_model_backend
    from mineru.model.vlm.selector import resolve_vlm_engine

    words = ["models", "download", "--tier", deployment, "--small-backend", resolve_small_model_backend()]
    if deployment == "standard" and not vlm_server_url:
        words += ["--vlm-engine", resolve_vlm_engine()]
    return f"MINERU_MODEL_BASE_DIR={shlex.quote(model_dir)} {shlex.quote(mineru_kit())} " + " ".join(words)


def missing_models(tier: Tier, *, ocr: bool, model_dir: str, vlm_server_url: str) -> str | None:
    """Why ``tier`` cannot run here (each repository not ready, with its missing files, and the
    command that installs them), or None when it can. File lookups only (MinerU's own check)."""
    deployment = deployment_tier(tier, ocr=ocr)
    if deployment is None:
        return None
    from mineru.config import VlmConfig
    from mineru.model.download import verify_model_repo
    from mineru.model.registry import model_repos_for_tier

    vlm_config = VlmConfig(server_url=vlm_server_url) if vlm_server_url else None  # None: MinerU's own
    problems: list[str] = []
    for repo in model_repos_for_tier(deployment, vlm_config=vlm_config):
        result = verify_model_repo(repo)
        if not result.ready:
            problems.append(
                f"Model repo {repo.name} is not ready under {result.root}; missing: {', '.join(result.missing_paths)}"
            )
    if not problems:
        return None
    what = f"tier '{tier}'"
    if tier == "flash":
        what += (
            " on a document MinerU reads by OCR (an image, a scan or a page whose text layer it finds"
            " too thin, or ocr_mode=ocr; ocr_mode=txt forces the text layer)"
        )
    command = download_command(deployment, model_dir=model_dir, vlm_server_url=vlm_server_url)
    return f"{what} needs model files that are not installed. " + ". ".join(problems) + f". Run: {command}"
