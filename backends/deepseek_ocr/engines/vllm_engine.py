"""DeepSeek-OCR in-process through upstream vLLM's native model (the version pinned in
backends/deepseek_ocr/constraints.txt, which has both ``DeepseekOCRForCausalLM`` and
``DeepseekOCR2ForCausalLM``).

vLLM's async engine runs on an event loop in a thread of its own; request threads hand it pages
with ``asyncio.run_coroutine_threadsafe``, so pages arriving on different threads are in the
engine together and continuous batching runs them as one batch. The engine core is a child
process started with ``spawn`` (cuda_startup.py). When it dies the engine says so
(:meth:`VLLMEngine.failure`) and, after ``DEEPSEEK_DEAD_ENGINE_EXIT`` seconds, this worker exits so
gunicorn under supervisord starts a fresh one.

Every vLLM name, keyword and field used here is checked against the pinned wheel's source by
tests/conformance/test_deepseek_conformance.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from backends.deepseek_ocr.config import DeepSeekConfig
from backends.deepseek_ocr.cuda_startup import make_cuda_safe
from backends.deepseek_ocr.engines.base import Engine, EngineDead, Generation, GenerationRequest, ngram_arguments
from backends.deepseek_ocr.engines.preflight import check_gpu_engine, cuda_available
from backends.deepseek_ocr.gpu_memory import nvml_memory, pinned_device, process_tree
from backends.deepseek_ocr.ngram import ngram_rule

if TYPE_CHECKING:
    from vllm.outputs import CompletionOutput, RequestOutput

log = logging.getLogger(__name__)
LOAD_TIMEOUT_S = 1800.0
#: How often the watcher looks at the engine core.
WATCH_INTERVAL_S = 2.0


def _terminate_this_worker() -> None:
    os.kill(os.getpid(), signal.SIGTERM)  # gunicorn: a graceful worker exit; the master starts a new one


def generation_from(final: RequestOutput) -> Generation:
    """The last output of a request as the engine seam's :class:`Generation`."""
    if not final.finished or not final.outputs:
        raise RuntimeError("vLLM ended the page without a finished output")
    completion: CompletionOutput = final.outputs[0]
    return Generation(
        text=completion.text,
        finish_reason=completion.finish_reason or "",  # missing: a failure (finish.py)
        output_tokens=len(completion.token_ids),
    )


class VLLMEngine(Engine):
    name = "vllm"

    def __init__(self, config: DeepSeekConfig, exit_process: Callable[[], None] = _terminate_this_worker) -> None:
        self.config = config
        self.variant = "DeepSeek-OCR"
        self._engine: Any = None
        self._dead_error: type[BaseException] = RuntimeError
        self.vllm_version = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._exit_process = exit_process

    @property
    def model_label(self) -> str:
        return f"{self.variant} (vllm {self.vllm_version})" if self._engine is not None else self.variant

    def load(self) -> None:
        make_cuda_safe()  # before torch or vLLM is imported here, and before the engine core starts
        files = check_gpu_engine(self.config.model, "vllm", "requirements.txt")
        self.variant = files.variant
        import vllm
        from vllm import AsyncEngineArgs
        from vllm.engine.async_llm_engine import AsyncLLMEngine
        from vllm.model_executor.models.deepseek_ocr import NGramPerReqLogitsProcessor
        from vllm.v1.engine.exceptions import EngineDeadError

        self.vllm_version = vllm.__version__
        self._dead_error = EngineDeadError
        config = self.config
        arguments = AsyncEngineArgs(
            model=str(files.directory),
            served_model_name=files.variant,
            # The official settings: the output of one page must not be reused for another.
            enable_prefix_caching=False,
            mm_processor_cache_gb=0,
            logits_processors=[NGramPerReqLogitsProcessor],
            gpu_memory_utilization=config.gpu_memory_utilization,
            max_model_len=config.max_model_len,
            max_num_seqs=config.max_num_seqs,
            limit_mm_per_prompt={"image": 1},
            disable_log_stats=True,
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="vllm-loop", daemon=True)
        self._thread.start()

        async def build() -> Any:
            return AsyncLLMEngine.from_engine_args(arguments)

        self._engine = asyncio.run_coroutine_threadsafe(build(), self._loop).result(LOAD_TIMEOUT_S)
        threading.Thread(target=self._watch, name="vllm-watch", daemon=True).start()

    def submit(self, request: GenerationRequest) -> Future[Generation]:
        if self._loop is None:
            raise RuntimeError("the vLLM engine is not loaded")
        return asyncio.run_coroutine_threadsafe(self._generate(request), self._loop)

    async def _generate(self, request: GenerationRequest) -> Generation:
        from vllm import SamplingParams

        params = SamplingParams(
            temperature=0.0,
            max_tokens=request.max_tokens,
            skip_special_tokens=False,  # the grounding tags are special tokens
            extra_args=ngram_arguments(ngram_rule(self.variant, self.config)),
        )
        prompt = {"prompt": request.prompt, "multi_modal_data": {"image": request.image}}
        final: Any = None
        try:
            async for output in self._engine.generate(prompt, params, request.request_id):
                final = output
        except asyncio.CancelledError:
            # The page was abandoned (timeout, cancelled document): free its slot in the batch.
            await self._engine.abort(request.request_id)
            raise
        except self._dead_error as exc:
            raise EngineDead(self.failure() or f"the vLLM engine core died: {exc}") from exc
        if final is None:
            raise RuntimeError("vLLM returned no output for the page")
        return generation_from(final)

    def failure(self) -> str | None:
        engine = self._engine
        if engine is None or not engine.errored:
            return None
        restart = (
            f"this worker restarts in {self.config.dead_engine_exit:g} s (DEEPSEEK_DEAD_ENGINE_EXIT)"
            if self.config.dead_engine_exit > 0
            else "restart the service (DEEPSEEK_DEAD_ENGINE_EXIT=0: no automatic restart)"
        )
        return (
            f"the vLLM engine core died ({type(engine.dead_error).__name__}; its log says why, "
            f"e.g. CUDA out of memory); {restart}"
        )

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_INTERVAL_S):
            reason = self.failure()
            if reason is None:
                continue
            log.error("deepseek-ocr: %s", reason)
            if self.config.dead_engine_exit > 0 and not self._stop.wait(self.config.dead_engine_exit):
                self._exit_process()
            return

    def details(self) -> dict[str, Any]:
        return {
            "max_num_seqs": self.config.max_num_seqs,
            "max_model_len": self.config.max_model_len,
            "gpu_memory_utilization": self.config.gpu_memory_utilization,
            **self._gpu_memory(),
        }

    def _gpu_memory(self) -> dict[str, float]:
        if self._engine is None:
            return {}
        from vllm.third_party import pynvml

        return nvml_memory(pynvml, pinned_device(dict(os.environ)), process_tree(os.getpid()))

    def gpu_available(self) -> bool:
        return cuda_available()

    def close(self) -> None:
        self._stop.set()
        if self._engine is not None:
            self._engine.shutdown()
            self._engine = None
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
