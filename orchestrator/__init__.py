"""The orchestrator: the one public entry, routing each request to the backend the client names.

The app factory lives in :mod:`orchestrator.app` and is imported on first use: gunicorn's master reads
:mod:`orchestrator.config` and :mod:`orchestrator.recycling` for its settings, and must not import
Flask, requests and ssl before gevent patches them in the workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from orchestrator.app import create_app

        return create_app
    raise AttributeError(f"module 'orchestrator' has no attribute {name!r}")
