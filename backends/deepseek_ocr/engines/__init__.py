"""The engines DeepSeek-OCR can run on, chosen by ``DEEPSEEK_ENGINE``."""

from __future__ import annotations

from backends.deepseek_ocr.config import DeepSeekConfig
from backends.deepseek_ocr.engines.base import Engine


def create_engine(config: DeepSeekConfig) -> Engine:
    """The configured engine, not yet loaded. Imports only that engine's module (each needs its own
    libraries, which the other engines' environments do not have)."""
    if config.engine == "vllm":
        from backends.deepseek_ocr.engines.vllm_engine import VLLMEngine

        return VLLMEngine(config)
    if config.engine == "transformers":
        from backends.deepseek_ocr.engines.transformers_engine import TransformersEngine

        return TransformersEngine(config)
    from backends.deepseek_ocr.engines.openai_engine import OpenAIEngine

    return OpenAIEngine(config)
