"""Checking a presented secret (an API key, the backends' shared token) without leaking which one
matched or how much of it was right."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from werkzeug.datastructures import Headers

BEARER = "bearer "


def presented(headers: Headers, header: str) -> str | None:
    """The secret in ``header``, else in ``Authorization: Bearer <secret>``."""
    value = headers.get(header)
    if value:
        return value.strip()
    authorization = headers.get("Authorization", "")
    if authorization[: len(BEARER)].lower() == BEARER:
        return authorization[len(BEARER) :].strip() or None
    return None


def matches_any(given: str | None, secrets: Sequence[str]) -> bool:
    """Constant-time comparison against *every* secret: no early exit, so the time taken does not
    tell whether (or which) a key exists."""
    candidate = (given or "").encode("utf-8")
    found = False
    for secret in secrets:
        found |= hmac.compare_digest(candidate, secret.encode("utf-8"))
    return found and given is not None


#: The header the orchestrator sends the backends' shared token in (``BACKEND_TOKEN``).
BACKEND_TOKEN_HEADER = "X-Backend-Token"
