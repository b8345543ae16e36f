"""Pins a GPU backend to its card by setting ``CUDA_VISIBLE_DEVICES`` before torch is imported."""

from __future__ import annotations

import os
from collections.abc import MutableMapping


def pin_gpu(variable: str, default: str, env: MutableMapping[str, str] | None = None) -> str:
    """Apply the backend's GPU setting (``DEEPSEEK_GPU``, ``MINERU_GPU``) as ``CUDA_VISIBLE_DEVICES``.

    The backend's own variable wins; without it a ``CUDA_VISIBLE_DEVICES`` set by whoever started
    the process (deployment/startup.sh, a container) is kept; without either, ``default`` applies.
    Must run before anything imports torch: CUDA reads the variable once.
    """
    env = os.environ if env is None else env
    chosen = (env.get(variable) or "").strip()
    if chosen:
        env["CUDA_VISIBLE_DEVICES"] = chosen
    elif not (env.get("CUDA_VISIBLE_DEVICES") or "").strip():
        env["CUDA_VISIBLE_DEVICES"] = default
    return env["CUDA_VISIBLE_DEVICES"]
