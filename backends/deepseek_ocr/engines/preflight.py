"""What an in-process GPU engine needs before it loads anything: the weights, its library, a GPU.

All the problems are reported at once, so one look at ``/health`` tells what to fix.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from functools import lru_cache

from backends.deepseek_ocr.cuda_startup import make_cuda_safe
from backends.deepseek_ocr.engines.base import EngineUnavailable
from backends.deepseek_ocr.model_files import ModelFiles, find_model


def check_gpu_engine(model: str, library: str, requirements: str) -> ModelFiles:
    problems: list[str] = []
    files: ModelFiles | None = None
    try:
        files = find_model(model)
    except FileNotFoundError as exc:
        problems.append(str(exc))
    if importlib.util.find_spec(library) is None:
        problems.append(
            f"{library} is not installed in this Python environment ({sys.prefix}); "
            f"install backends/deepseek_ocr/{requirements} into venvs/deepseek-ocr"
        )
    elif not cuda_available():
        problems.append(
            "no CUDA GPU is visible to this process "
            f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '<unset>')})"
        )
    if problems or files is None:
        raise EngineUnavailable("; ".join(problems))
    return files


@lru_cache(maxsize=1)
def cuda_available() -> bool:
    """Whether torch (if installed here) sees a CUDA GPU; asked once, torch is slow to import.
    Through NVML (cuda_startup.py): this check must not initialise CUDA before vLLM starts its engine."""
    if importlib.util.find_spec("torch") is None:
        return False
    make_cuda_safe()
    torch = importlib.import_module("torch")
    return bool(torch.cuda.is_available())
