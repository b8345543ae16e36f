"""``/live`` and ``/ready`` answers, the same shape on the orchestrator and every backend.

Liveness only says the process answers HTTP (restart it if not); readiness says it should get
traffic now (model loaded, not overloaded) — a load balancer takes it out of rotation while not.
"""

from __future__ import annotations

from flask import Response, jsonify

from shared.api_contract import utc_timestamp


def live_response() -> Response:
    return jsonify({"status": "alive", "timestamp": utc_timestamp()})


def ready_response(problems: list[str]) -> tuple[Response, int]:
    """200 when there is no problem, else 503 listing them."""
    body = {"ready": not problems, "reasons": problems, "timestamp": utc_timestamp()}
    return jsonify(body), 200 if not problems else 503
