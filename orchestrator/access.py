"""Who may call the orchestrator: the API key check and the per-client rate limit, run before any
route. Open to probes and the web page's files; everything else wants a key when keys are set."""

from __future__ import annotations

import logging

from flask import Flask, request

from orchestrator.config import OrchestratorConfig
from orchestrator.rate_limit import RateLimiter
from shared.credentials import matches_any, presented
from shared.errors import RateLimited, Unauthorized
from shared.metrics import REJECTED

log = logging.getLogger(__name__)
API_KEY_HEADER = "X-API-Key"
#: Probes, and the web page itself (it holds no secret; it asks its user for a key).
OPEN_ENDPOINTS = frozenset({"status.live", "status.ready", "web.index", "web.assets"})
#: Endpoints that start OCR work: the rate limit applies to these.
WORK_METHODS = frozenset({"POST"})


def _is_open(config: OrchestratorConfig) -> bool:
    if request.method == "OPTIONS":  # CORS preflight: browsers never send credentials with it
        return True
    if request.endpoint == "status.metrics" and config.metrics_public:
        return True
    return request.endpoint in OPEN_ENDPOINTS


def install_access(app: Flask, config: OrchestratorConfig) -> None:
    if not config.api_keys:
        log.warning("ORCHESTRATOR_API_KEYS is empty: the orchestrator accepts requests from anyone who reaches it")
    limiter = (
        RateLimiter(config.rate_limit_per_minute, config.rate_limit_burst) if config.rate_limit_per_minute > 0 else None
    )

    @app.before_request
    def _check_access() -> None:
        key = presented(request.headers, API_KEY_HEADER)
        if config.api_keys and not _is_open(config) and not matches_any(key, config.api_keys):
            # The same answer for a missing, unknown or wrong key: nothing tells which.
            raise Unauthorized(f"a valid API key is required ({API_KEY_HEADER} or Authorization: Bearer)")
        if limiter is not None and request.method in WORK_METHODS:
            wait = limiter.acquire(key or request.remote_addr or "-")
            if wait > 0:
                REJECTED.labels("orchestrator", "-", "rate_limit").inc()
                raise RateLimited(
                    f"rate limit of {config.rate_limit_per_minute:g} requests per minute per client "
                    "reached; retry later",
                    retry_after=wait,
                )
