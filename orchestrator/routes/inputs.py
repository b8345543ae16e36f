"""Reading what a client sends to the OCR, comparison and job endpoints into one
:class:`~orchestrator.ocr_request.OCRRequest`: the backend (or backends) first, so that errors name
them, then the document, the reference and the options, all checked before any backend's time is spent."""

from __future__ import annotations

from flask import g, request

from orchestrator.document import Document
from orchestrator.ocr_request import BACKEND, BACKENDS, OCRRequest, check_reference, parse_request
from orchestrator.services import Services
from shared.errors import InvalidOption, NoHealthyBackend, UnknownBackend
from shared.health import HealthState
from shared.http_common import read_uploaded_file
from shared.uploads import REFERENCE_FIELD, DocumentKind, check_route_kind

#: The service never fetches a document from an address a client gives (no SSRF): such fields are
#: refused outright rather than passed on as options.
URL_FIELDS = frozenset({"url", "file_url", "image_url", "pdf_url", "document_url"})


def form_fields() -> dict[str, str]:
    fields = request.form.to_dict()
    asked = sorted(URL_FIELDS & {name.lower() for name in fields})
    if asked:
        raise InvalidOption(f"'{asked[0]}': documents are not fetched from URLs; upload the file as 'file'")
    return fields


def chosen_backend(svc: Services, fields: dict[str, str]) -> tuple[str, ...]:
    name = fields.get(BACKEND.name, "").strip() or svc.config.default_backend
    g.backend_name = name
    if name not in svc.registry:
        raise UnknownBackend(f"unknown backend '{name}'; available: {', '.join(svc.registry.names())}")
    return (name,)


def compared_backends(svc: Services, fields: dict[str, str]) -> tuple[str, ...]:
    """``backends=a,b`` (order kept, repeats dropped); default: every backend healthy now."""
    spec = fields.get(BACKENDS.name, "").strip()
    if spec:
        names = list(dict.fromkeys(name.strip() for name in spec.split(",") if name.strip()))
        unknown = [name for name in names if name not in svc.registry]
        if unknown:
            raise UnknownBackend(
                f"unknown backend(s) {', '.join(unknown)}; available: {', '.join(svc.registry.names())}"
            )
    else:
        names = [status.name for status in svc.registry.snapshot() if status.status == HealthState.HEALTHY]
        if not names:
            raise NoHealthyBackend("no backend is healthy to compare; see GET /backends")
    g.backend_name = ",".join(names)
    return tuple(names)


def reference_text(svc: Services, fields: dict[str, str]) -> str | None:
    """The reference as a form field or as a file part (UTF-8 text), within its limit."""
    limits = svc.config.limits
    part = request.files.get(REFERENCE_FIELD)
    if part is None:
        return check_reference(fields.get(REFERENCE_FIELD), limits.max_reference_chars)
    data = part.read(limits.max_reference_bytes + 1)
    if len(data) > limits.max_reference_bytes:
        raise InvalidOption(f"the reference file is over {limits.max_reference_bytes} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidOption("the reference file is not UTF-8 text") from None
    return check_reference(text, limits.max_reference_chars)


def read_ocr_request(svc: Services, *, compare: bool, expected: DocumentKind | None = None) -> OCRRequest:
    fields = form_fields()
    backends = compared_backends(svc, fields) if compare else chosen_backend(svc, fields)
    upload = read_uploaded_file(svc.config.limits)
    document = Document.from_upload(upload.data, upload.filename, svc.config.limits)
    check_route_kind(expected, document.fmt)
    reference = reference_text(svc, fields) if compare else None
    return parse_request(
        fields,
        document=document,
        backends=backends,
        request_id=g.request_id,
        reference=reference,
        published=svc.registry.published,
    )
