"""Who may call the orchestrator: the API key check, the cross-site check and the per-client rate
limit, run before any route. Open to probes and the web page's files; everything else wants a key
when keys are set. Without keys, a browser may change state (POST, DELETE) only from the
orchestrator's own page or an origin in ``CORS_ORIGINS``: any other web page a user opens could
otherwise submit work through that user's network position."""

from __future__ import annotations

import hashlib
import logging

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from orchestrator.config import OrchestratorConfig
from orchestrator.rate_limit import RateLimiter
from orchestrator.recycling import WORK_METHODS
from shared.credentials import matches_any, presented
from shared.errors import CrossSiteRefused, RateLimited, Unauthorized
from shared.metrics import REJECTED

log = logging.getLogger(__name__)
API_KEY_HEADER = "X-API-Key"
#: Probes, the web page itself (it holds no secret; it asks its user for a key) and the API's
#: description and docs page (what a client reads before it has a key).
OPEN_ENDPOINTS = frozenset(
    {"status.live", "status.ready", "web.index", "web.assets", "web.favicon", "web.docs", "api_docs.openapi"}
)


def tenant_of(key: str | None, keys: list[str]) -> str | None:
    """Who owns what a request creates: a digest of its verified key, or ``None`` when no keys are
    configured (then everything is shared). Never the key itself: it is stored with the job."""
    if not keys or key is None or not matches_any(key, keys):
        return None
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def request_tenant() -> str | None:
    """The tenant of the request being served (set before every route by :func:`install_access`)."""
    return g.get("tenant")


#: Methods that change state: refused from another site's page when no keys are set.
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cross_site(origin: str | None, own_origin: str, allowed: list[str]) -> bool:
    """A browser's request from a page of another site (``Origin`` neither ours nor allowed).
    No ``Origin`` is not a browser's cross-site request (curl, scripts, same-origin GETs)."""
    if origin is None:
        return False
    return origin != own_origin and origin not in allowed and "*" not in allowed


def _is_open(config: OrchestratorConfig) -> bool:
    if request.method == "OPTIONS":  # CORS preflight: browsers never send credentials with it
        return True
    if request.endpoint == "status.metrics" and config.metrics_public:
        return True
    return request.endpoint in OPEN_ENDPOINTS


def install_access(app: Flask, config: OrchestratorConfig) -> None:
    keys = config.all_keys
    if not keys:
        log.warning("ORCHESTRATOR_API_KEYS is empty: the orchestrator accepts requests from anyone who reaches it")
    if config.behind_front:
        # The front proxy (nginx, on loopback) sets these; a client's own values never get through.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    # Behind the front, the rate limit is the front's (shared by every process); here, per process.
    limiter = (
        RateLimiter(config.rate_limit_per_minute, config.rate_limit_burst)
        if config.rate_limit_per_minute > 0 and not config.behind_front
        else None
    )

    @app.before_request
    def _check_access() -> None:
        key = presented(request.headers, API_KEY_HEADER)
        if keys and not _is_open(config) and not matches_any(key, keys):
            # The same answer for a missing, unknown or wrong key: nothing tells which.
            raise Unauthorized(f"a valid API key is required ({API_KEY_HEADER} or Authorization: Bearer)")
        g.tenant = tenant_of(key, keys)
        g.operator = bool(config.operator_keys) and matches_any(key, config.operator_keys)
        if (
            not keys
            and request.method in STATE_CHANGING
            and cross_site(request.headers.get("Origin"), f"{request.scheme}://{request.host}", config.cors_origins)
        ):
            REJECTED.labels("orchestrator", "-", "cross_site").inc()
            raise CrossSiteRefused(
                f"requests from {request.headers.get('Origin')} are refused: the page is not this "
                "orchestrator's and its origin is not in CORS_ORIGINS (or set ORCHESTRATOR_API_KEYS)"
            )
        if limiter is not None and request.method in WORK_METHODS:
            # A verified key, else the address: an unverified key is anyone's to make up.
            wait = limiter.acquire(g.tenant or request.remote_addr or "-")
            if wait > 0:
                REJECTED.labels("orchestrator", "-", "rate_limit").inc()
                raise RateLimited(
                    f"rate limit of {config.rate_limit_per_minute:g} requests per minute per client "
                    "reached; retry later",
                    retry_after=wait,
                )
