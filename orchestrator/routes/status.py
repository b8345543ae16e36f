"""``GET /health`` and ``GET /backends``: what the orchestrator knows of itself and each backend."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from orchestrator.services import services
from shared.api_contract import utc_timestamp

bp = Blueprint("status", __name__)


@bp.get("/health")
def health() -> Response:
    statuses = {s.name: s for s in services().registry.snapshot()}

    def status_of(name: str) -> str:
        return statuses[name].status if name in statuses else "not_configured"

    any_healthy = any(s.status == "healthy" for s in statuses.values())
    return jsonify(
        {
            "status": "healthy" if any_healthy else "degraded",
            "deepseek_status": status_of("deepseek-ocr"),
            "mineru_status": status_of("mineru"),
            "timestamp": utc_timestamp(),
            "backends": {name: s.to_json() for name, s in statuses.items()},
        }
    )


@bp.get("/backends")
def backends() -> Response:
    """Cached health by default; ``?refresh=1`` asks every backend now."""
    svc = services()
    if request.args.get("refresh") in ("1", "true", "yes"):
        svc.registry.check_all()
    return jsonify(
        {
            "default": svc.config.default_backend,
            "backends": [s.to_json() for s in svc.registry.snapshot()],
        }
    )
