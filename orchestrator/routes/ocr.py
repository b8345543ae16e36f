"""``POST /ocr`` (and ``/ocr/image``, ``/ocr/pdf``) and ``POST /ocr/compare``: synchronous, through
the same pipeline as jobs."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from orchestrator.comparison import run_comparison
from orchestrator.job_runner import pipeline
from orchestrator.routes.inputs import read_ocr_request
from orchestrator.services import services
from shared.uploads import DocumentKind

bp = Blueprint("ocr", __name__)
CACHE_HEADER = "X-Cache"


def _ocr(expected: DocumentKind | None) -> Response:
    svc = services()
    read = read_ocr_request(svc, compare=False, expected=expected)
    with svc.admission.admit(read.backends):
        outcome = pipeline().run(read, read.backends[0])
    response = Response(outcome.body, status=outcome.status, content_type="application/json")
    response.headers[CACHE_HEADER] = "hit" if outcome.cached else ("miss" if read.use_cache else "bypass")
    if outcome.status in (429, 503):  # a backend's "busy" passed on: the client is told when to retry
        response.headers["Retry-After"] = str(int(svc.config.retry_after))
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
    read = read_ocr_request(svc, compare=True)
    with svc.admission.admit(read.backends):
        return jsonify(run_comparison(pipeline(), read))
