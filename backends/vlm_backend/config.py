"""Typed configuration of one VLM backend instance, read from the environment.

deployment/plan.py sets these from the instance's catalogue entry (``[backends.<name>]`` with a
``preset``); each default is declared once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.config import ConfigError, env_float, env_int, env_str


@dataclass(frozen=True)
class VLMConfig:
    #: The instance's name in URLs, results and errors (its catalogue entry's name).
    name: str = "vlm"
    #: The preset (backends/vlm_backend/presets/<module>.py) that prompts and reads the model.
    preset: str = "qwen2.5-vl"
    #: Base URL of the OpenAI-compatible server (``vllm serve``), without ``/v1``.
    server_url: str = "http://127.0.0.1:8100"
    #: The model name that server serves (``--served-model-name``); requests name it.
    served_model: str = ""
    api_key: str = ""
    #: Seconds one page may take on the model server before the request fails with 504.
    page_timeout: float = 300.0
    #: Token cap per page; 0: the preset's own ``max_tokens``.
    max_tokens: int = 0
    #: Pages sent to the model server at once (it batches them).
    max_concurrency: int = 16
    #: Seconds the backend waits (reporting "loading") for a model server that is still starting.
    startup_wait: float = 900.0
    #: Seconds between two checks of the model server's health.
    health_interval: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> VLMConfig:
        served = env_str("VLM_SERVED_MODEL", cls.served_model, env).strip()
        if not served:
            raise ConfigError("VLM_SERVED_MODEL must name the model the server serves (--served-model-name)")
        return cls(
            name=env_str("VLM_NAME", cls.name, env).strip() or cls.name,
            preset=env_str("VLM_PRESET", cls.preset, env).strip(),
            server_url=env_str("VLM_SERVER_URL", cls.server_url, env).rstrip("/"),
            served_model=served,
            api_key=env_str("VLM_API_KEY", cls.api_key, env),
            page_timeout=env_float("VLM_PAGE_TIMEOUT", cls.page_timeout, env, minimum=1.0),
            max_tokens=env_int("VLM_MAX_TOKENS", cls.max_tokens, env, minimum=0),
            max_concurrency=env_int("VLM_MAX_CONCURRENCY", cls.max_concurrency, env, minimum=1),
            startup_wait=env_float("VLM_STARTUP_WAIT", cls.startup_wait, env, minimum=0.0),
            health_interval=env_float("VLM_HEALTH_INTERVAL", cls.health_interval, env, minimum=0.1),
        )
