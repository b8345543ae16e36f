"""Stand-ins for the libraries the DeepSeek-OCR engines call (vLLM, torch, transformers, NVML), with
the names and signatures of the pinned versions (vllm 0.18.1, see backends/deepseek_ocr/constraints.txt;
the model's remote code on transformers 4.46.3), so that the adapters' behaviour can be tested
without a GPU. They are hand-written: tests/conformance checks the adapters' names, keywords and
fields against the real vLLM wheel, so a rename upstream fails there even if these still match.

They are put in ``sys.modules`` for one test; nothing here runs a model.
"""

from __future__ import annotations

import asyncio
import importlib.machinery
import os
import sys
import types
from dataclasses import dataclass, field
from typing import Any

import pytest

from backends.deepseek_ocr.cuda_startup import CUDA_SAFE_ENVIRONMENT, DEVICE_ORDER


def _module(name: str, **attributes: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    module.__dict__.update(attributes)
    return module


def install(monkeypatch: pytest.MonkeyPatch, modules: dict[str, types.ModuleType]) -> None:
    from backends.deepseek_ocr.engines import preflight

    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    # The engines set the CUDA-safe environment (cuda_startup.py): start without it, undo it after.
    for name in (*CUDA_SAFE_ENVIRONMENT, DEVICE_ORDER[0]):
        monkeypatch.delenv(name, raising=False)
    preflight.cuda_available.cache_clear()  # the caller clears it again after the test


# -- torch ----------------------------------------------------------------------------------------


class _Cuda:
    """``torch.cuda``. Like the real one, ``is_available()`` asks NVML when
    ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` and otherwise calls into the CUDA driver (``cuInit``),
    after which a forked child cannot use CUDA; ``driver_inits`` counts those calls."""

    def __init__(self, available: bool) -> None:
        self.available = available
        self.driver_inits = 0

    def is_available(self) -> bool:
        if os.environ.get("PYTORCH_NVML_BASED_CUDA_CHECK") != "1":
            self.driver_inits += 1
        return self.available

    def is_initialized(self) -> bool:
        return False  # neither check sets it (that is why vLLM does not switch to spawn by itself)

    def memory_allocated(self) -> int:
        return 3 * 2**30

    def memory_reserved(self) -> int:
        return 4 * 2**30


def torch_module(cuda: bool = True) -> types.ModuleType:
    return _module("torch", cuda=_Cuda(cuda), bfloat16="bfloat16")


# -- NVML (vllm.third_party.pynvml) ---------------------------------------------------------------


@dataclass
class NvmlMemory:
    total: int
    free: int
    used: int


@dataclass
class NvmlProcess:
    pid: int
    usedGpuMemory: int | None


class FakeNvml:
    """The pynvml calls gpu_memory.py makes; one device per index, with the processes given."""

    def __init__(self, processes: dict[int, int], used: int = 30 * 2**30, total: int = 80 * 2**30) -> None:
        self.processes = processes
        self.memory = NvmlMemory(total=total, free=total - used, used=used)
        self.handles: list[Any] = []
        self.open = 0

    def nvmlInit(self) -> None:
        self.open += 1

    def nvmlShutdown(self) -> None:
        self.open -= 1

    def nvmlDeviceGetHandleByIndex(self, index: int) -> str:
        self.handles.append(index)
        return f"gpu{index}"

    def nvmlDeviceGetHandleByUUID(self, uuid: str) -> str:
        self.handles.append(uuid)
        return uuid

    def nvmlDeviceGetMemoryInfo(self, handle: str) -> NvmlMemory:
        return self.memory

    def nvmlDeviceGetComputeRunningProcesses(self, handle: str) -> list[NvmlProcess]:
        return [NvmlProcess(pid, used) for pid, used in self.processes.items()]


# -- vLLM 0.18.1 ----------------------------------------------------------------------------------


@dataclass
class AsyncEngineArgs:
    """The fields of vllm.engine.arg_utils.AsyncEngineArgs the adapter may set (no others)."""

    model: str
    served_model_name: str | list[str] | None = None
    trust_remote_code: bool = False
    max_model_len: int | None = None
    enable_prefix_caching: bool | None = None
    gpu_memory_utilization: float = 0.9
    max_num_seqs: int | None = None
    disable_log_stats: bool = False
    limit_mm_per_prompt: dict[str, Any] = field(default_factory=dict)
    mm_processor_cache_gb: float = 4
    logits_processors: list[Any] | None = None
    enable_log_requests: bool = False


@dataclass
class SamplingParams:
    temperature: float = 1.0
    max_tokens: int | None = 16
    skip_special_tokens: bool = True
    extra_args: dict[str, Any] | None = None


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None
    logprobs: Any
    finish_reason: str | None = None


@dataclass
class RequestOutput:
    request_id: str
    prompt: str | None
    prompt_token_ids: list[int] | None
    outputs: list[CompletionOutput]
    finished: bool


class NGramPerReqLogitsProcessor:
    pass


class EngineDeadError(Exception):
    """``vllm.v1.engine.exceptions.EngineDeadError``."""


#: What the engine core process would inherit: read at ``from_engine_args``, when it starts.
INHERITED = ("PYTORCH_NVML_BASED_CUDA_CHECK", "VLLM_WORKER_MULTIPROC_METHOD", "CUDA_VISIBLE_DEVICES")


class FakeAsyncLLM:
    """``vllm.v1.engine.async_llm.AsyncLLM``: ``generate`` is an async generator of RequestOutput."""

    created: list[FakeAsyncLLM] = []

    def __init__(self, engine_args: AsyncEngineArgs) -> None:
        self.engine_args = engine_args
        self.requests: list[tuple[dict[str, Any], SamplingParams, str]] = []
        self.aborted: list[str] = []
        self.active = 0
        self.peak = 0
        self.step_seconds = 0.05
        self.shut_down = False
        self.dead = False
        #: Per request id, the finish reason to end with instead of the usual one.
        self.finish_reasons: dict[str, str] = {}
        asyncio.get_running_loop()  # the real one needs a running loop to start its output handler
        # The engine core starts here: what it inherits, and whether CUDA was touched before.
        self.child_environment = {name: os.environ.get(name) for name in INHERITED}
        torch = sys.modules.get("torch")
        self.driver_inits_before_start = torch.cuda.driver_inits if torch is not None else 0

    @classmethod
    def from_engine_args(
        cls,
        engine_args: AsyncEngineArgs,
        start_engine_loop: bool = True,
        usage_context: Any = None,
        stat_loggers: list[Any] | None = None,
    ) -> FakeAsyncLLM:
        engine = cls(engine_args)
        cls.created.append(engine)
        return engine

    def kill_engine_core(self) -> None:
        """What a CUDA out-of-memory in the engine core looks like from here."""
        self.dead = True

    @property
    def errored(self) -> bool:
        return self.dead

    @property
    def dead_error(self) -> BaseException:
        return EngineDeadError()

    async def generate(
        self,
        prompt: dict[str, Any],
        sampling_params: SamplingParams,
        request_id: str,
        *,
        prompt_text: str | None = None,
        priority: int = 0,
    ):
        if self.dead:
            raise EngineDeadError()
        self.requests.append((prompt, sampling_params, request_id))
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            text = ""
            for word in ("<|ref|>text<|/ref|><|det|>[[0, 0, 500, 500]]<|/det|>\n", "Hello ", "page"):
                await asyncio.sleep(self.step_seconds)
                if self.dead:  # vLLM's output handler fails every stream in flight
                    raise EngineDeadError()
                text += word
                yield RequestOutput(
                    request_id, None, [0], [CompletionOutput(0, text, [1] * len(text), None, None)], False
                )
            finish = "length" if sampling_params.max_tokens and sampling_params.max_tokens < 32 else "stop"
            finish = self.finish_reasons.get(request_id, finish)
            yield RequestOutput(request_id, None, [0], [CompletionOutput(0, text, [1, 2, 3], None, None, finish)], True)
        finally:
            self.active -= 1

    async def abort(self, request_id: str, internal: bool = False) -> None:
        self.aborted.append(request_id)

    def shutdown(self, timeout: float | None = None) -> None:
        self.shut_down = True


def vllm_modules(nvml: FakeNvml | None = None) -> dict[str, types.ModuleType]:
    FakeAsyncLLM.created = []
    nvml = nvml or FakeNvml({})
    return {
        "vllm": _module(
            "vllm",
            __version__="0.18.1",
            AsyncEngineArgs=AsyncEngineArgs,
            SamplingParams=SamplingParams,
            AsyncLLMEngine=FakeAsyncLLM,
        ),
        "vllm.engine": _module("vllm.engine"),
        "vllm.engine.async_llm_engine": _module("vllm.engine.async_llm_engine", AsyncLLMEngine=FakeAsyncLLM),
        "vllm.model_executor": _module("vllm.model_executor"),
        "vllm.model_executor.models": _module("vllm.model_executor.models"),
        "vllm.model_executor.models.deepseek_ocr": _module(
            "vllm.model_executor.models.deepseek_ocr", NGramPerReqLogitsProcessor=NGramPerReqLogitsProcessor
        ),
        "vllm.v1": _module("vllm.v1"),
        "vllm.v1.engine": _module("vllm.v1.engine"),
        "vllm.v1.engine.exceptions": _module("vllm.v1.engine.exceptions", EngineDeadError=EngineDeadError),
        "vllm.third_party": _module("vllm.third_party", pynvml=nvml),
    }


# -- transformers 4.46.3 + the model's remote code -----------------------------------------------


class FakeTokenizer:
    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return [1] * len(text.split())


class FakeRemoteModel:
    """The remote code's ``DeepseekOCRForCausalLM``: ``infer`` with its real keyword names."""

    def __init__(self, path: str, kwargs: dict[str, Any]) -> None:
        self.path = path
        self.kwargs = kwargs
        self.moves: list[Any] = []
        self.calls: list[dict[str, Any]] = []
        self.answer = "<|ref|>text<|/ref|><|det|>[[0, 0, 999, 999]]<|/det|>\nRemote code page"

    def eval(self) -> FakeRemoteModel:
        self.moves.append("eval")
        return self

    def cuda(self) -> FakeRemoteModel:
        self.moves.append("cuda")
        return self

    def to(self, dtype: Any) -> FakeRemoteModel:
        self.moves.append(dtype)
        return self

    def infer(
        self,
        tokenizer: Any,
        prompt: str = "",
        image_file: str = "",
        output_path: str = " ",
        base_size: int = 1024,
        image_size: int = 640,
        crop_mode: bool = True,
        test_compress: bool = False,
        save_results: bool = False,
        eval_mode: bool = False,
    ) -> str | None:
        assert os.path.isfile(image_file) and os.path.isdir(output_path)
        self.calls.append(
            {
                "prompt": prompt,
                "image_file": image_file,
                "output_path": output_path,
                "base_size": base_size,
                "image_size": image_size,
                "crop_mode": crop_mode,
                "save_results": save_results,
                "eval_mode": eval_mode,
            }
        )
        return self.answer if eval_mode else None


class AutoModel:
    loaded: list[FakeRemoteModel] = []

    @classmethod
    def from_pretrained(cls, path: str, **kwargs: Any) -> FakeRemoteModel:
        model = FakeRemoteModel(path, kwargs)
        cls.loaded.append(model)
        return model


class AutoTokenizer:
    @classmethod
    def from_pretrained(cls, path: str, **kwargs: Any) -> FakeTokenizer:
        assert kwargs.get("trust_remote_code") is True
        return FakeTokenizer()


def transformers_modules() -> dict[str, types.ModuleType]:
    AutoModel.loaded = []
    return {
        "transformers": _module("transformers", AutoModel=AutoModel, AutoTokenizer=AutoTokenizer),
        "torch": torch_module(),
    }
