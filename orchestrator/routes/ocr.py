"""``POST /ocr``, ``/ocr/image``, ``/ocr/pdf``: validate here, then hand the document to the named backend."""
from __future__ import annotations

from flask import Blueprint, Response, g, request

from orchestrator.backend_client import BackendUnavailable
from orchestrator.services import services
from shared.options import parse_options
from shared.errors import OCRError
from shared.http_common import read_uploaded_file
from shared.pdf import inspect_pdf
from shared.uploads import DocumentKind, check_route_kind, detect_format, image_size

bp = Blueprint("ocr", __name__)


class UnknownBackend(OCRError):
    code, status = "unknown_backend", 400


def _forward(expected_kind: DocumentKind | None, path: str) -> Response:
    svc = services()
    fields = request.form.to_dict()
    name = fields.pop("backend", "").strip() or svc.config.default_backend
    g.backend_name = name
    if name not in svc.registry:
        available = svc.registry.names()
        raise UnknownBackend(f"unknown backend '{name}'; available: {', '.join(available)}")

    upload = read_uploaded_file(svc.config.limits)
    fmt = detect_format(upload.data)
    check_route_kind(expected_kind, fmt)
    if fmt.kind == "image":
        image_size(upload.data, fmt, svc.config.limits)
    else:
        inspect_pdf(upload.data, svc.config.limits)
    parse_options(fields)  # refuse bad common options before spending the backend's time

    try:
        answer = svc.client.post_document(
            name, svc.registry.url(name), path, upload, fmt, fields, g.request_id
        )
    except BackendUnavailable as exc:
        svc.registry.mark_unreachable(name, exc.message)
        raise
    return Response(answer.body, status=answer.status, content_type=answer.content_type)


@bp.post("/ocr")
def ocr_any() -> Response:
    return _forward(None, "/ocr")


@bp.post("/ocr/image")
def ocr_image() -> Response:
    return _forward("image", "/ocr/image")


@bp.post("/ocr/pdf")
def ocr_pdf() -> Response:
    return _forward("pdf", "/ocr/pdf")
