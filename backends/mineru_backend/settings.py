"""Typed MinerU configuration from the environment, and the variables MinerU itself reads.

MinerU reads its configuration (``MINERU_*`` variables, ``$MINERU_HOME/config.yaml``) once, when
``mineru`` is first imported, so :func:`apply_mineru_environment` must run before that import.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Literal, cast

from shared.config import ConfigError, env_int, env_str
from shared.gpu_pin import pin_gpu

Tier = Literal["flash", "basic", "standard", "advanced"]
OcrMode = Literal["auto", "txt", "ocr"]
TIERS: tuple[Tier, ...] = ("flash", "basic", "standard", "advanced")
OCR_MODES: tuple[OcrMode, ...] = ("auto", "txt", "ocr")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """``value`` lower-cased if it is one of ``choices``; ConfigError naming ``name`` otherwise."""
    lowered = value.strip().lower()
    if lowered not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return lowered


@dataclass(frozen=True)
class MineruConfig:
    device_mode: str = "cuda"  # MINERU_DEVICE_MODE: cuda, cuda:0, cpu...
    model_dir: str = "~/.mineru/models"  # MINERU_MODEL_BASE_DIR
    tier: Tier = "standard"  # the default tier of a request
    ocr_mode: OcrMode = "auto"
    vlm_server_url: str = ""  # an OpenAI-compatible MinerU VLM server; empty: MinerU's local engine
    max_concurrency: int = 1
    tmp_dir: str | None = None  # where uploads are written for MinerU; None: the system's temp dir

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MineruConfig:
        return cls(
            device_mode=env_str("MINERU_DEVICE_MODE", "cuda", env),
            model_dir=env_str("MINERU_MODEL_BASE_DIR", "~/.mineru/models", env),
            tier=cast(Tier, check_choice("MINERU_TIER", env_str("MINERU_TIER", "standard", env), TIERS)),
            ocr_mode=cast(OcrMode, check_choice("MINERU_OCR_MODE", env_str("MINERU_OCR_MODE", "auto", env), OCR_MODES)),
            vlm_server_url=env_str("MINERU_VLM_SERVER_URL", "", env),
            max_concurrency=env_int("MINERU_MAX_CONCURRENCY", 1, env, minimum=1),
            tmp_dir=env_str("MINERU_TMP_DIR", "", env) or None,
        )

    def mineru_environment(self) -> dict[str, str]:
        """The variables MinerU reads at import: offline model source and directory, device, malloc trim."""
        return {
            "MINERU_MODEL_SOURCE": "local",  # never download while serving; models are installed beforehand
            "MINERU_MODEL_BASE_DIR": os.path.expanduser(self.model_dir),
            "MINERU_DEVICE_MODE": self.device_mode,
            "MINERU_MALLOC_TRIM": "1",  # glibc malloc_trim(0) after each document: RSS does not creep
        }


def apply_mineru_environment(config: MineruConfig, environ: MutableMapping[str, str] | None = None) -> None:
    """Set MinerU's variables and pin the GPU (``MINERU_GPU``, else the inherited
    ``CUDA_VISIBLE_DEVICES``, else 1); call before the first ``import mineru`` (and torch)."""
    target = os.environ if environ is None else environ
    pin_gpu("MINERU_GPU", "1", target)
    target.update(config.mineru_environment())
