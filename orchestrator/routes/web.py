"""``GET /``: the built web client (``web-client/dist``) when there is one, otherwise a short
description of the API; ``GET /docs``: the API documentation page of the same build; ``/favicon.ico``
and ``/assets/`` from the build. The client has one page (its views are ``#`` fragments), so there is
no catch-all route: an unknown path stays a JSON 404."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, send_from_directory

from orchestrator.api_operations import OPERATIONS
from orchestrator.openapi import documented_routes
from orchestrator.services import services
from shared.errors import NotFound

bp = Blueprint("web", __name__)


def api_index(app: Flask) -> dict[str, Any]:
    """What ``/`` says without a built web client: where the API is described, and its endpoints
    (the summaries of the OpenAPI description, so the two cannot differ)."""
    return {
        "service": "ocr-service orchestrator",
        "openapi": "/openapi.json",
        "docs": "/docs",
        "endpoints": {
            f"{method} {path}": OPERATIONS[endpoint].summary for path, method, endpoint, _ in documented_routes(app)
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


#: The API documentation page, built with the web client (web-client/docs.html): no CDN at run time.
DOCS_PAGE = "docs.html"


def _page(name: str) -> Response:
    response = send_from_directory(services().config.web_client_dir, name, max_age=0)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def index() -> Response:
    if not (services().config.web_client_dir / "index.html").is_file():
        return jsonify(api_index(current_app))
    return _page("index.html")


@bp.get("/docs")
def docs() -> Response:
    """The interactive documentation of ``/openapi.json``."""
    if not (services().config.web_client_dir / DOCS_PAGE).is_file():
        raise NotFound(
            "the docs page comes with the web client build (make setup); the API is described at /openapi.json"
        )
    return _page(DOCS_PAGE)


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
