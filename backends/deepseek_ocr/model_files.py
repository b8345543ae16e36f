"""Finds DeepSeek-OCR's weights on this machine and says plainly what is missing.

No weights are ever downloaded at start (the GPU server may have no internet, and a silent
multi-gigabyte download is no way to start a service): ``DEEPSEEK_MODEL`` names a local directory,
or a hub id that must already be in the local Hugging Face cache.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

ARCHITECTURE_NAMES = {"DeepseekOCRForCausalLM": "DeepSeek-OCR", "DeepseekOCR2ForCausalLM": "DeepSeek-OCR-2"}


@dataclass(frozen=True)
class ModelFiles:
    directory: Path
    variant: str  # DeepSeek-OCR or DeepSeek-OCR-2


def hub_cache_dir() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    return home / "hub"


def _cached_snapshot(model_id: str) -> Path | None:
    snapshots = hub_cache_dir() / ("models--" + model_id.replace("/", "--")) / "snapshots"
    if not snapshots.is_dir():
        return None
    candidates = sorted(
        (p for p in snapshots.iterdir() if (p / "config.json").is_file()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    return candidates[0] if candidates else None


def download_hint(model: str) -> str:
    hub_id = model if not Path(model).is_absolute() and model.count("/") == 1 else "deepseek-ai/DeepSeek-OCR"
    return (
        f"download the weights on a machine with internet (`huggingface-cli download {hub_id} "
        f"--local-dir models/{hub_id.split('/')[-1]}`, or `deployment/setup.sh --models`) and set "
        "DEEPSEEK_MODEL to that directory"
    )


def find_model(model: str) -> ModelFiles:
    """The weights' directory and variant; :class:`FileNotFoundError` naming what is missing."""
    path = Path(model).expanduser()
    directory = path if path.is_dir() else _cached_snapshot(model)
    if directory is None:
        raise FileNotFoundError(
            f"DeepSeek-OCR weights not found: DEEPSEEK_MODEL={model!r} is not a directory and is not in the "
            f"Hugging Face cache ({hub_cache_dir()}); {download_hint(model)}"
        )
    config_file = directory / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"DeepSeek-OCR weights incomplete: {config_file} is missing; {download_hint(model)}")
    if not any(directory.glob("*.safetensors")):
        raise FileNotFoundError(
            f"DeepSeek-OCR weights incomplete: no *.safetensors file in {directory}; {download_hint(model)}"
        )
    try:
        architectures = json.loads(config_file.read_text(encoding="utf-8")).get("architectures") or []
    except (ValueError, AttributeError):
        raise FileNotFoundError(f"{config_file} is not valid JSON") from None
    variant = next((ARCHITECTURE_NAMES[a] for a in architectures if a in ARCHITECTURE_NAMES), None)
    if variant is None:
        raise FileNotFoundError(
            f"{directory} holds {architectures or 'an unknown model'}, not DeepSeek-OCR or DeepSeek-OCR-2"
        )
    return ModelFiles(directory=directory, variant=variant)
