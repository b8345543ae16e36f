"""The narrow seam between the backend and whatever runs the model: one page and one prompt in,
the model's raw text and how it finished out.

Engines take requests from many threads at once; :meth:`Engine.submit` returns at once with a
future, so all the pages of a document (and the pages of concurrent requests) reach the engine
together and vLLM can batch them.
"""

from __future__ import annotations

import concurrent.futures
from abc import ABC, abstractmethod
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, ClassVar

from PIL import Image

from backends.deepseek_ocr.ngram import NGramRule

#: ``<td>`` and ``</td>``: table cells legitimately repeat, so the no-repeat n-gram rule spares them.
NGRAM_WHITELIST_TOKEN_IDS = (128821, 128822)


@dataclass(frozen=True)
class GenerationRequest:
    image: Image.Image
    prompt: str  # begins with ``<image>\n``
    max_tokens: int
    request_id: str


@dataclass(frozen=True)
class Generation:
    text: str
    #: As vLLM says it: ``stop``, ``length``, ``repetition``, ``abort``, ``error`` (finish.py).
    finish_reason: str
    output_tokens: int | None = None


def ngram_arguments(rule: NGramRule) -> dict[str, Any]:
    """The per-request arguments of vLLM's ``NGramPerReqLogitsProcessor`` (``extra_args`` / ``vllm_xargs``)."""
    return {"ngram_size": rule.size, "window_size": rule.window, "whitelist_token_ids": list(NGRAM_WHITELIST_TOKEN_IDS)}


class EngineUnavailable(RuntimeError):
    """The engine cannot run here: its message says why (no weights, no GPU, library missing...)."""


class EngineDead(RuntimeError):
    """The engine stopped serving after it loaded (its process died, its server stopped answering)."""


class Engine(ABC):
    name: ClassVar[str]
    #: Whether a request's ``max_tokens`` reaches the model (the remote code's ``infer`` has no such knob).
    honours_max_tokens: ClassVar[bool] = True
    #: DeepSeek-OCR or DeepSeek-OCR-2, known once loaded (it picks the n-gram rule).
    variant: str = "DeepSeek-OCR"

    @abstractmethod
    def load(self) -> None:
        """Load the model (or connect to it); raise :class:`EngineUnavailable` with the reason."""

    @abstractmethod
    def submit(self, request: GenerationRequest) -> Future[Generation]:
        """Start one page; safe to call from any thread. Cancelling the future abandons the page."""

    @property
    def model_label(self) -> str:
        """The model (and variant) this engine runs, for ``model_id``."""
        return "DeepSeek-OCR"

    def details(self) -> dict[str, Any]:
        """Facts for ``/health``."""
        return {}

    def gpu_available(self) -> bool:
        return False

    def failure(self) -> str | None:
        """Why a loaded engine cannot serve now (None while it can); read on every health answer
        and before each page, so it must be cheap."""
        return None

    def close(self) -> None:  # noqa: B027 (an optional hook: an engine that holds nothing keeps it)
        """Release the model (GPU memory, background threads)."""


class ThreadedEngine(Engine):
    """An engine whose calls block: each page runs on one of ``workers`` threads."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{self.name}")

    @abstractmethod
    def generate(self, request: GenerationRequest) -> Generation:
        """Run one page to the end (called on a worker thread)."""

    def submit(self, request: GenerationRequest) -> Future[Generation]:
        return self._pool.submit(self.generate, request)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
