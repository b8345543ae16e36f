"""``GET /``: the built web client when there is one, otherwise a short description of the API."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, send_from_directory

from orchestrator.services import services

bp = Blueprint("web", __name__)

API_INDEX = {
    "service": "ocr-service orchestrator",
    "endpoints": {
        "POST /ocr": "multipart 'file' (image or PDF) and 'backend'; options: prompt, mode, dpi, page_range, "
                     "boxes_image, pdf_mode (ocr|auto), cache (true|false), and the backend's own",
        "POST /ocr/image": "as /ocr, images only",
        "POST /ocr/pdf": "as /ocr, PDFs only",
        "POST /ocr/compare": "as /ocr with 'backends=a,b' (default: every healthy one) and optional 'reference' text",
        "POST /jobs": "as /ocr, asynchronous: 202 {job_id, status_url, events_url}",
        "POST /jobs/compare": "as /ocr/compare, asynchronous",
        "GET /jobs/<id>": "status, progress, pages finished so far, the result when done",
        "GET /jobs/<id>/events": "server-sent events: status, progress, page",
        "DELETE /jobs/<id>": "cancel",
        "GET /backends": "the backends, their URLs, models and health",
        "GET /health": "the orchestrator's and every backend's health",
        "GET /live": "liveness probe (no key needed)",
        "GET /ready": "readiness probe: 503 with reasons when not ready (no key needed)",
        "GET /metrics": "Prometheus metrics (API key unless METRICS_PUBLIC)",
    },
}


@bp.get("/")
def index() -> Response:
    web_dir = services().config.web_client_dir
    if (web_dir / "index.html").is_file():
        return send_from_directory(web_dir, "index.html")
    return jsonify(API_INDEX)


@bp.get("/assets/<path:filename>")
def assets(filename: str) -> Response:
    return send_from_directory(services().config.web_client_dir / "assets", filename)
