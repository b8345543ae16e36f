"""Test tools for the DeepSeek-OCR backend: a scripted engine in the real engine seam, recorded
real model outputs, and a weights directory that looks real to the preflight checks.

The scripted engine plays the model's part; it is never the product (the product's engines are in
backends/deepseek_ocr/engines/ and are tested against stand-ins of their libraries).
"""

from __future__ import annotations

import concurrent.futures
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from backends.deepseek_ocr.config import DeepSeekConfig
from backends.deepseek_ocr.engines.base import Engine, Generation, GenerationRequest

# Real DeepSeek-OCR answers, from ../shared/notes/deepseek.md §10 (sources named there).
TITLE_883x736 = (
    "<|ref|>title<|/ref|><|det|>[[175, 155, 852, 234]]<|/det|>\n# LORA: LOW-RANK ADAPTATION OF LARGE LANGUAGE MODELS"
)
LINES_OCR = (
    "<|ref|>一段接一段<|/ref|><|det|>[[549, 653, 616, 679]]<|/det|>\n"
    "<|ref|>越过高峰<|/ref|><|det|>[[547, 703, 604, 730]]<|/det|>\n"
    "<|ref|>另一峰却又见<|/ref|><|det|>[[547, 754, 630, 780]]<|/det|>"
)
IMAGE_AND_TEXT_1196x800 = (
    "<|ref|>image<|/ref|><|det|>[[470, 7, 530, 99]]<|/det|>\n \n\n"
    "<|ref|>text<|/ref|><|det|>[[460, 102, 541, 130]]<|/det|>\n1月份工作。 "
)
SUB_TITLE = "<|ref|>sub_title<|/ref|><|det|>[[115, 269, 450, 287]]<|/det|>\n## 3. Aussagen über 2 Matrizen in 3D "
EQUATION = "<|ref|>equation<|/ref|><|det|>[[117, 138, 238, 160]]<|/det|>\n\\[\\ker(A) = \\{0\\}\\]"
PAPER_FIGURE_PAGE = (
    "<|ref|>image<|/ref|><|det|>[[130, 583, 866, 813]]<|/det|>\n"
    "<|ref|>image_caption<|/ref|><|det|>[[115, 828, 881, 892]]<|/det|>\n"
    "<center>Figure 1 | Figure (a) shows the compression ratio ... </center>"
)
PAPER_TABLE_PAGE = (
    "<|ref|>table<|/ref|><|det|>[[167, 431, 828, 535]]<|/det|>\n"
    "<|ref|>table_caption<|/ref|><|det|>[[115, 386, 881, 420]]<|/det|>\n"
    "Table 1 | Multi resolution support of DeepEncoder. ...\n\n"
    '<table><tr><td rowspan="2">Mode</td><td colspan="3">Native Resolution</td></tr>'
    "<tr><td>Tiny</td><td>Small</td><td>Base</td></tr></table>"
)

# Shapes the model produces, written in its exact format.
DOCUMENT_PAGE = (
    "<|ref|>title<|/ref|><|det|>[[100, 50, 900, 100]]<|/det|>\n# Quarterly Report \n\n"
    "<|ref|>text<|/ref|><|det|>[[100, 120, 900, 200]]<|/det|>\n"
    "Revenue grew by 12% where \\(x \\coloneqq 3\\) and \\(y \\eqqcolon 4\\). \n\n"
    "<|ref|>equation<|/ref|><|det|>[[300, 220, 700, 260]]<|/det|>\n\\[E = mc^2 \\quad (1)\\]\n\n"
    "<|ref|>table<|/ref|><|det|>[[100, 300, 900, 500]]<|/det|>\n"
    "<table><tr><td>Q1</td><td>&lt;10</td></tr><tr><td>Q2</td><td>12</td></tr></table>\n\n"
    "<|ref|>image<|/ref|><|det|>[[100, 520, 500, 800]]<|/det|>\n \n\n"
    "<|ref|>image_caption<|/ref|><|det|>[[100, 810, 500, 840]]<|/det|>\n<center>Figure 1: Sales</center>"
)
MULTI_BOX_LOCATE = "<|ref|>total<|/ref|><|det|>[[10, 20, 110, 60], [500, 600, 620, 650]]<|/det|>"
MALFORMED = (
    "<|ref|>text<|/ref|><|det|>[[100, 100, 400, 150]]<|/det|>\nGood line.\n\n"
    "<|ref|>text<|/ref|><|det|>[[1, 2, __import__('os')]]<|/det|>\nBad boxes.\n\n"
    "<|ref|>text<|/ref|><|det|>[[-20, 980, 1200, 990]]<|/det|>\nOut of range.\n\n"
    "<|ref|>text<|/ref|><|det|>[[300, 300, 300, 400]]<|/det|>\nEmpty box.\n\n"
    "<|ref|>text<|/ref|>Stray ref.\n\n<|ref|>text<|/ref|><|det|>[[5, 5"
)
LOOP = "<|ref|>title<|/ref|><|det|>[[100, 50, 900, 100]]<|/det|>\n# Ledger\n\n" + "".join(
    f"<|ref|>text<|/ref|><|det|>[[520, {y}, 780, {y + 8}]]<|/det|>\n<pre> <pre> \n\n" for y in range(120, 960, 12)
)
TRUNCATED = (
    "<|ref|>title<|/ref|><|det|>[[100, 50, 900, 100]]<|/det|>\n# Long page\n\n"
    "<|ref|>text<|/ref|><|det|>[[100, 120, 900, 200]]<|/det|>\nThe text stops in the mid"
)
FREE_OCR = "Quarterly Report\nRevenue grew by 12%.\n"


class ScriptedEngine(Engine):
    """Answers every page with ``answer(request)``; records how many pages are in it at once."""

    name = "scripted"

    def __init__(
        self,
        answer: Callable[[GenerationRequest], Generation] | str = DOCUMENT_PAGE,
        *,
        delay: float = 0.0,
        fail_load: str | None = None,
        workers: int = 64,
    ) -> None:
        self.answer = answer if callable(answer) else (lambda request, text=answer: Generation(text, "stop", 10))
        self.delay = delay
        self.fail_load = fail_load
        self.requests: list[GenerationRequest] = []
        self.in_flight = 0
        self.peak = 0
        self.cancelled = 0
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)

    def load(self) -> None:
        if self.fail_load:
            raise RuntimeError(self.fail_load)

    def submit(self, request: GenerationRequest) -> Future[Generation]:
        with self._lock:
            self.requests.append(request)
        future = self._pool.submit(self._run, request)
        future.add_done_callback(self._count_cancel)
        return future

    def _count_cancel(self, future: Future[Generation]) -> None:
        if future.cancelled():
            with self._lock:
                self.cancelled += 1

    def _run(self, request: GenerationRequest) -> Generation:
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            time.sleep(self.delay)
            return self.answer(request)
        finally:
            with self._lock:
                self.in_flight -= 1


class BatchingEngine(Engine):
    """Simulates a batching GPU engine: pages that wait together run as one batch whose cost is a
    fixed time, whatever its size (up to ``max_batch``).

    A batch starts ``gather_seconds`` after its first page arrives. vLLM admits new requests at
    every scheduler step (milliseconds), so pages that arrive a few milliseconds apart share the
    GPU; without the gather window the simulation would start a batch for the first page alone and
    make the others wait one whole batch.
    """

    name = "simulated-batching"

    def __init__(
        self, batch_seconds: float, max_batch: int = 32, text: str = DOCUMENT_PAGE, gather_seconds: float = 0.05
    ) -> None:
        self.batch_seconds = batch_seconds
        self.gather_seconds = gather_seconds
        self.max_batch = max_batch
        self.text = text
        self.batches: list[int] = []
        self._waiting: list[Future[Generation]] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._loop, daemon=True).start()

    def load(self) -> None:
        pass

    def submit(self, request: GenerationRequest) -> Future[Generation]:
        future: Future[Generation] = Future()
        with self._cond:
            self._waiting.append(future)
            self._cond.notify()
        return future

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._waiting:
                    self._cond.wait()
            time.sleep(self.gather_seconds)
            with self._cond:
                batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
            self.batches.append(len(batch))
            time.sleep(self.batch_seconds)
            for future in batch:
                if future.set_running_or_notify_cancel():
                    future.set_result(Generation(self.text, "stop", 10))


def fake_weights(directory: Path, architecture: str = "DeepseekOCRForCausalLM") -> Path:
    """A directory that passes the weights check (config.json naming the architecture, a safetensors file)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps({"architectures": [architecture]}))
    (directory / "model-00001-of-00001.safetensors").write_bytes(b"\0" * 16)
    return directory


def config(**overrides) -> DeepSeekConfig:
    return DeepSeekConfig(**overrides)
