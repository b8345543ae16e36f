"""DeepSeek-OCR in-process through upstream vLLM's native model (vllm==0.19.1, which has both
``DeepseekOCRForCausalLM`` and ``DeepseekOCR2ForCausalLM``).

vLLM's async engine runs on an event loop in a thread of its own; request threads hand it pages
with ``asyncio.run_coroutine_threadsafe``, so pages arriving on different threads are in the
engine together and continuous batching runs them as one batch.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any

from backends.deepseek_ocr.config import DeepSeekConfig
from backends.deepseek_ocr.engines.base import Engine, Generation, GenerationRequest, ngram_arguments
from backends.deepseek_ocr.engines.preflight import check_gpu_engine, cuda_available, gpu_memory

LOAD_TIMEOUT_S = 1800.0


class VLLMEngine(Engine):
    name = "vllm"

    def __init__(self, config: DeepSeekConfig) -> None:
        self.config = config
        self.variant = "DeepSeek-OCR"
        self._engine: Any = None
        self._sampling_params: Any = None
        self.vllm_version = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def model_label(self) -> str:
        return f"{self.variant} (vllm {self.vllm_version})" if self._engine is not None else self.variant

    def load(self) -> None:
        files = check_gpu_engine(self.config.model, "vllm", "requirements.txt")
        self.variant = files.variant
        import vllm
        from vllm import AsyncEngineArgs, SamplingParams
        from vllm.engine.async_llm_engine import AsyncLLMEngine
        from vllm.model_executor.models.deepseek_ocr import NGramPerReqLogitsProcessor

        self.vllm_version = vllm.__version__
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
        self._sampling_params = SamplingParams
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="vllm-loop", daemon=True)
        self._thread.start()

        async def build() -> Any:
            return AsyncLLMEngine.from_engine_args(arguments)

        self._engine = asyncio.run_coroutine_threadsafe(build(), self._loop).result(LOAD_TIMEOUT_S)

    def submit(self, request: GenerationRequest) -> Future[Generation]:
        if self._loop is None:
            raise RuntimeError("the vLLM engine is not loaded")
        return asyncio.run_coroutine_threadsafe(self._generate(request), self._loop)

    async def _generate(self, request: GenerationRequest) -> Generation:
        params = self._sampling_params(
            temperature=0.0,
            max_tokens=request.max_tokens,
            skip_special_tokens=False,  # the grounding tags are special tokens
            extra_args=ngram_arguments(self.config.ngram_size, self.config.ngram_window),
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
        if final is None or not final.outputs:
            raise RuntimeError("vLLM returned no output for the page")
        completion = final.outputs[0]
        return Generation(
            text=completion.text,
            finish_reason=completion.finish_reason or "stop",
            output_tokens=len(completion.token_ids),
        )

    def details(self) -> dict[str, Any]:
        return {
            "max_num_seqs": self.config.max_num_seqs,
            "max_model_len": self.config.max_model_len,
            "gpu_memory_utilization": self.config.gpu_memory_utilization,
            **gpu_memory(),
        }

    def gpu_available(self) -> bool:
        return cuda_available()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.shutdown()
            self._engine = None
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
