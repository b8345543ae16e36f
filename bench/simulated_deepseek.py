"""The DeepSeek-OCR backend (real server, real post-processing) with a simulated engine whose cost
is a fixed time per batch, like vLLM's continuous batching on a GPU that is not saturated.
Served by gunicorn for bench/deepseek_batching.py. ``SIM_BATCH_SECONDS`` sets the cost."""

from __future__ import annotations

import os

from backends.deepseek_ocr.backend import DeepSeekOCRBackend
from backends.deepseek_ocr.config import DeepSeekConfig
from shared.backend_server import create_backend_app
from tests.support.deepseek import BatchingEngine

CONFIG = DeepSeekConfig.from_env()
ENGINE = BatchingEngine(
    float(os.environ.get("SIM_BATCH_SECONDS", "0.5")),
    max_batch=CONFIG.max_num_seqs,
    gather_seconds=float(os.environ.get("SIM_GATHER_SECONDS", "0.05")),
)
app = create_backend_app(DeepSeekOCRBackend(CONFIG, engine=ENGINE))
