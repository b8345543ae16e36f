"""``GET /openapi.json``: the API's OpenAPI 3.1 description (orchestrator/openapi.py), built on the
first request from the app's routes and configuration, which do not change while it runs."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from orchestrator.openapi import build_spec
from orchestrator.services import services

bp = Blueprint("api_docs", __name__)
SPEC_KEY = "ocr_openapi"


@bp.get("/openapi.json")
def openapi() -> Response:
    spec = current_app.extensions.get(SPEC_KEY)
    if spec is None:
        spec = current_app.extensions[SPEC_KEY] = build_spec(current_app, services().config)
    return jsonify(spec)
