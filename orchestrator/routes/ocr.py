"""``POST /ocr`` (and ``/ocr/image``, ``/ocr/pdf``) and ``POST /ocr/compare``: synchronous, through
the same pipeline as jobs."""
from __future__ import annotations

from flask import Blueprint, Response, g, jsonify

from orchestrator.comparison import run_comparison
from orchestrator.job_runner import pipeline
from orchestrator.pipeline import RunRequest
from orchestrator.routes.inputs import (
    chosen_backend,
    compared_backends,
    form_fields,
    read_document,
    reference_text,
    use_cache,
)
from orchestrator.services import services
from shared.uploads import DocumentKind

bp = Blueprint("ocr", __name__)
CACHE_HEADER = "X-Cache"


def _ocr(expected: DocumentKind | None) -> Response:
    svc = services()
    fields = form_fields()
    backend = chosen_backend(svc, fields)
    cache = use_cache(fields)
    document = read_document(svc, fields, expected)
    outcome = pipeline().run(document, RunRequest(backend, fields, g.request_id, cache))
    response = Response(outcome.body, status=outcome.status, content_type="application/json")
    response.headers[CACHE_HEADER] = "hit" if outcome.cached else ("miss" if cache else "bypass")
    return response


@bp.post("/ocr")
def ocr_any() -> Response:
    return _ocr(None)


@bp.post("/ocr/image")
def ocr_image() -> Response:
    return _ocr("image")


@bp.post("/ocr/pdf")
def ocr_pdf() -> Response:
    return _ocr("pdf")


@bp.post("/ocr/compare")
def compare() -> Response:
    svc = services()
    fields = form_fields()
    backends = compared_backends(svc, fields)
    cache = use_cache(fields)
    reference = reference_text(fields)
    document = read_document(svc, fields)
    return jsonify(run_comparison(pipeline(), document, backends, fields, g.request_id, reference=reference,
                                  use_cache=cache))
