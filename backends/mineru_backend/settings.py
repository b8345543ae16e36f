"""Typed MinerU configuration from the environment, and the variables MinerU itself reads.

MinerU reads its configuration (``MINERU_*`` variables, ``$MINERU_HOME/config.yaml``) once, when
``mineru`` is first imported, so :func:`apply_mineru_environment` must run before that import.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast
from urllib.parse import urlsplit

from shared.config import ConfigError, env_int, env_str
from shared.gpu_pin import pin_gpu

Tier = Literal["flash", "basic", "standard", "advanced"]
OcrMode = Literal["auto", "txt", "ocr"]
TIERS: tuple[Tier, ...] = ("flash", "basic", "standard", "advanced")
OCR_MODES: tuple[OcrMode, ...] = ("auto", "txt", "ocr")
#: ``MINERU_TIER=auto``: the first of these whose models are installed becomes the default tier.
AUTO_TIER_ORDER: tuple[Tier, ...] = ("standard", "basic", "flash")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """``value`` lower-cased if it is one of ``choices``; ConfigError naming ``name`` otherwise."""
    lowered = value.strip().lower()
    if lowered not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return lowered


def check_server_url(name: str, value: str) -> str:
    """An http(s) URL with a host and no credentials, query or fragment (what MinerU's ``VlmConfig``
    accepts), checked here so that a bad value stops the process at start with a plain message."""
    try:
        parts = urlsplit(value)
        valid = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and parts.username is None
            and parts.password is None
            and not parts.query
            and not parts.fragment
            and not any(char.isspace() for char in value)
        )
        _ = parts.port  # a port that is no number raises
    except ValueError:
        valid = False
    if not valid:
        raise ConfigError(
            f"{name} must be an http(s) URL of a MinerU VLM server such as http://127.0.0.1:30000 "
            f"(no credentials, query or fragment), got {value!r}"
        )
    return value


def gpu_present(env: Mapping[str, str] | None = None) -> bool:
    """Whether an NVIDIA GPU is visible to the process with ``env``, told without importing torch."""
    visible = (os.environ if env is None else env).get("CUDA_VISIBLE_DEVICES", "")
    return visible.strip() not in ("", "-1") and Path("/dev/nvidiactl").exists()


@dataclass(frozen=True)
class MineruConfig:
    #: MINERU_DEVICE_MODE: cuda, cuda:0, cpu...; ``auto``: cuda where a GPU is visible, else cpu.
    device_mode: str = "auto"
    model_dir: str = "~/.mineru/models"  # MINERU_MODEL_BASE_DIR
    #: The default tier of a request; ``auto``: the best one whose models are installed (at load).
    tier: Tier | Literal["auto"] = "auto"
    ocr_mode: OcrMode = "auto"
    vlm_server_url: str = ""  # an OpenAI-compatible MinerU VLM server; empty: MinerU's local engine
    max_concurrency: int = 1
    tmp_dir: str | None = None  # where uploads are written for MinerU; None: the system's temp dir

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MineruConfig:
        url = env_str("MINERU_VLM_SERVER_URL", "", env)
        return cls(
            device_mode=env_str("MINERU_DEVICE_MODE", "auto", env),
            model_dir=env_str("MINERU_MODEL_BASE_DIR", "~/.mineru/models", env),
            tier=cast(Tier, check_choice("MINERU_TIER", env_str("MINERU_TIER", "auto", env), ("auto", *TIERS))),
            ocr_mode=cast(OcrMode, check_choice("MINERU_OCR_MODE", env_str("MINERU_OCR_MODE", "auto", env), OCR_MODES)),
            vlm_server_url=check_server_url("MINERU_VLM_SERVER_URL", url) if url else "",
            max_concurrency=env_int("MINERU_MAX_CONCURRENCY", 1, env, minimum=1),
            tmp_dir=env_str("MINERU_TMP_DIR", "", env) or None,
        )

    @property
    def model_path(self) -> str:
        return os.path.expanduser(self.model_dir)

    def resolved_device(self, env: Mapping[str, str] | None = None) -> str:
        if self.device_mode != "auto":
            return self.device_mode
        return "cuda" if gpu_present(env) else "cpu"

    def mineru_environment(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """The variables MinerU reads at import: offline model source and directory, device, malloc trim."""
        return {
            "MINERU_MODEL_SOURCE": "local",  # never download while serving; models are installed beforehand
            "MINERU_MODEL_BASE_DIR": self.model_path,
            "MINERU_DEVICE_MODE": self.resolved_device(env),
            "MINERU_MALLOC_TRIM": "1",  # glibc malloc_trim(0) after each document: RSS does not creep
        }


def apply_mineru_environment(config: MineruConfig, environ: MutableMapping[str, str] | None = None) -> None:
    """Set MinerU's variables and pin the GPU (``MINERU_GPU``, else the inherited
    ``CUDA_VISIBLE_DEVICES``, else 1); call before the first ``import mineru`` (and torch)."""
    target = os.environ if environ is None else environ
    pin_gpu("MINERU_GPU", "1", target)
    target.update(config.mineru_environment(target))
