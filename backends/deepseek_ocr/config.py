"""Typed configuration of the DeepSeek-OCR backend, read from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from shared.config import ConfigError, env_float, env_int, env_str

EngineName = Literal["vllm", "transformers", "openai"]
ENGINES: tuple[EngineName, ...] = ("vllm", "transformers", "openai")


def _optional_int(name: str, env: Mapping[str, str] | None, minimum: int) -> int | None:
    """An integer setting whose absence means "the model's own value" (0 or empty: absent)."""
    value = env_int(name, 0, env, minimum=0)
    if value and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value or None


#: The smallest token cap, for the server and for a request (``max_tokens``).
MIN_MAX_TOKENS = 16


@dataclass(frozen=True)
class DeepSeekConfig:
    engine: EngineName = "vllm"
    #: A local directory holding the weights, or a hub id looked up in the local Hugging Face cache.
    model: str = "deepseek-ai/DeepSeek-OCR"
    #: The GPU this backend runs on (``DEEPSEEK_GPU``): wsgi.py applies it as ``CUDA_VISIBLE_DEVICES``
    #: before torch is imported; reported in /health.
    gpu: str = "0"
    #: Token cap per page: a page that hits it is flagged as truncated (usually a repetition loop).
    max_tokens: int = 8192
    gpu_memory_utilization: float = 0.85
    max_model_len: int = 8192
    max_num_seqs: int = 32
    #: The no-repeat n-gram logits processor: n-gram size and the window it looks back over. None:
    #: the value of the model's official script (ngram.py).
    ngram_size: int | None = None
    ngram_window: int | None = None
    #: Seconds one page may take in the engine, counted from when the engine starts it, before the
    #: request fails with 504.
    page_timeout: float = 300.0
    #: Pages in the engine at once across all requests (``DEEPSEEK_ENGINE_PAGES``); None: max_num_seqs.
    engine_pages: int | None = None
    #: Seconds after the vLLM engine core dies before this worker exits so that gunicorn (under
    #: supervisord) starts a fresh one that loads the model again; 0: stay up until restarted by hand.
    dead_engine_exit: float = 15.0
    #: Base URL of a separately run ``vllm serve`` (engine ``openai``), e.g. ``http://127.0.0.1:8000``.
    openai_url: str = "http://127.0.0.1:8000"
    #: Model name that server serves; empty means the first one it lists.
    openai_model: str = ""
    openai_api_key: str = ""

    def __post_init__(self) -> None:
        if self.engine_pages is not None and not 1 <= self.engine_pages <= 2 * self.max_num_seqs:
            raise ConfigError(
                f"DEEPSEEK_ENGINE_PAGES must be between 1 and 2 × DEEPSEEK_MAX_NUM_SEQS "
                f"({2 * self.max_num_seqs}), got {self.engine_pages}"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeepSeekConfig:
        engine = env_str("DEEPSEEK_ENGINE", cls.engine, env).strip().lower()
        if engine not in ENGINES:
            raise ConfigError(f"DEEPSEEK_ENGINE must be one of {', '.join(ENGINES)}, got {engine!r}")
        utilisation = env_float("DEEPSEEK_GPU_MEMORY_UTILIZATION", cls.gpu_memory_utilization, env, minimum=0.05)
        if utilisation > 1.0:
            raise ConfigError(f"DEEPSEEK_GPU_MEMORY_UTILIZATION must be at most 1.0, got {utilisation}")
        return cls(
            engine=engine,
            model=env_str("DEEPSEEK_MODEL", cls.model, env),
            gpu=env_str("DEEPSEEK_GPU", env_str("CUDA_VISIBLE_DEVICES", cls.gpu, env), env),
            max_tokens=env_int("DEEPSEEK_MAX_TOKENS", cls.max_tokens, env, minimum=MIN_MAX_TOKENS),
            gpu_memory_utilization=utilisation,
            max_model_len=env_int("DEEPSEEK_MAX_MODEL_LEN", cls.max_model_len, env, minimum=256),
            max_num_seqs=env_int("DEEPSEEK_MAX_NUM_SEQS", cls.max_num_seqs, env, minimum=1),
            ngram_size=_optional_int("DEEPSEEK_NGRAM_SIZE", env, minimum=2),
            ngram_window=_optional_int("DEEPSEEK_NGRAM_WINDOW", env, minimum=2),
            page_timeout=env_float("DEEPSEEK_PAGE_TIMEOUT", cls.page_timeout, env, minimum=1.0),
            engine_pages=_optional_int("DEEPSEEK_ENGINE_PAGES", env, minimum=1),
            dead_engine_exit=env_float("DEEPSEEK_DEAD_ENGINE_EXIT", cls.dead_engine_exit, env, minimum=0.0),
            openai_url=env_str("DEEPSEEK_OPENAI_URL", cls.openai_url, env).rstrip("/"),
            openai_model=env_str("DEEPSEEK_OPENAI_MODEL", cls.openai_model, env),
            openai_api_key=env_str("DEEPSEEK_OPENAI_API_KEY", cls.openai_api_key, env),
        )

    @property
    def concurrency(self) -> int:
        """How many requests are admitted at once: vLLM batches up to ``max_num_seqs`` pages; the
        remote code runs one at a time."""
        return 1 if self.engine == "transformers" else self.max_num_seqs

    @property
    def pages_in_engine(self) -> int:
        """The one bound on pages inside the engine across every request (page_slots.py)."""
        if self.engine == "transformers":
            return 1
        return self.engine_pages or self.max_num_seqs
