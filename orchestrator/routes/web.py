"""``GET /``: the built web client (``web-client/dist``) when there is one, otherwise a short
description of the API; ``/favicon.ico`` and ``/assets/`` from the build. The client has one page
(its views are ``#`` fragments), so there is no catch-all route: an unknown path stays a JSON 404."""

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

#: Model output is untrusted: the page is sanitised (web-client/src/render), and this policy is the
#: second fence: no inline or foreign script, no plugins, no framing, calls to this origin only.
#: Inline styles stay allowed (KaTeX sizes glyphs with them); images from data:/blob: URIs are the
#: figure crops, page images and the uploaded file.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
#: Built assets have a content hash in their names, so they never change under the same URL.
ASSET_MAX_AGE = 365 * 24 * 3600


@bp.get("/")
def index() -> Response:
    web_dir = services().config.web_client_dir
    if not (web_dir / "index.html").is_file():
        return jsonify(API_INDEX)
    response = send_from_directory(web_dir, "index.html", max_age=0)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The client's icon (``web-client/public/favicon.ico``, copied into the build): browsers ask for
    it whatever the page says. Without a build, the JSON 404 as for any unknown path."""
    response = send_from_directory(services().config.web_client_dir, "favicon.ico", max_age=24 * 3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/assets/<path:filename>")
def assets(filename: str) -> Response:
    response = send_from_directory(services().config.web_client_dir / "assets", filename, max_age=ASSET_MAX_AGE)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}, immutable"
    return response
