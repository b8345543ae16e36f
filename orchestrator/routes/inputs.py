"""Reading what a client sends to the OCR, comparison and job endpoints: the document, the backend
(or backends) and the fields, all checked before any backend's time is spent."""
from __future__ import annotations

from dataclasses import dataclass

from flask import g, request

from orchestrator.pipeline import Document, check_fields
from orchestrator.services import Services
from shared.config import ConfigError, parse_bool
from shared.errors import InvalidOption, OCRError
from shared.http_common import read_uploaded_file
from shared.uploads import DocumentKind, check_route_kind

MAX_REFERENCE_CHARS = 1_000_000
#: The service never fetches a document from an address a client gives (no SSRF): such fields are
#: refused outright rather than passed on as options.
URL_FIELDS = frozenset({"url", "file_url", "image_url", "pdf_url", "document_url"})


class UnknownBackend(OCRError):
    code, status = "unknown_backend", 400


class NoHealthyBackend(OCRError):
    code, status, retryable = "no_healthy_backend", 503, True


def form_fields() -> dict[str, str]:
    fields = request.form.to_dict()
    asked = sorted(URL_FIELDS & {name.lower() for name in fields})
    if asked:
        raise InvalidOption(f"'{asked[0]}': documents are not fetched from URLs; upload the file as 'file'")
    return fields


def chosen_backend(svc: Services, fields: dict[str, str]) -> str:
    name = fields.pop("backend", "").strip() or svc.config.default_backend
    g.backend_name = name
    if name not in svc.registry:
        raise UnknownBackend(f"unknown backend '{name}'; available: {', '.join(svc.registry.names())}")
    return name


def compared_backends(svc: Services, fields: dict[str, str]) -> list[str]:
    """``backends=a,b`` (order kept, repeats dropped); default: every backend healthy now."""
    spec = fields.pop("backends", "").strip()
    fields.pop("backend", None)
    if spec:
        names = list(dict.fromkeys(name.strip() for name in spec.split(",") if name.strip()))
        unknown = [name for name in names if name not in svc.registry]
        if unknown:
            raise UnknownBackend(f"unknown backend(s) {', '.join(unknown)}; available: {', '.join(svc.registry.names())}")
    else:
        names = [status.name for status in svc.registry.snapshot() if status.status == "healthy"]
        if not names:
            raise NoHealthyBackend("no backend is healthy to compare; see GET /backends")
    g.backend_name = ",".join(names)
    return names


def use_cache(fields: dict[str, str]) -> bool:
    try:
        return parse_bool("cache", fields.pop("cache", "true"))
    except ConfigError as exc:
        raise InvalidOption(str(exc)) from None


def reference_text(fields: dict[str, str]) -> str | None:
    reference = fields.pop("reference", None)
    if reference is not None and len(reference) > MAX_REFERENCE_CHARS:
        raise InvalidOption(f"reference is longer than {MAX_REFERENCE_CHARS} characters")
    return reference


def read_document(svc: Services, fields: dict[str, str], expected: DocumentKind | None = None) -> Document:
    upload = read_uploaded_file(svc.config.limits)
    document = Document.from_upload(upload.data, upload.filename, svc.config.limits)
    check_route_kind(expected, document.fmt)
    check_fields(document, fields)
    return document


@dataclass(frozen=True)
class OCRRequest:
    """One request to ``/ocr``, ``/ocr/compare`` or the jobs, read and checked."""

    document: Document
    backends: list[str]
    fields: dict[str, str]  # what is left for the options, after the fields read here
    use_cache: bool
    reference: str | None


def read_ocr_request(svc: Services, *, compare: bool, expected: DocumentKind | None = None) -> OCRRequest:
    """The one order every endpoint reads a request in: backend(s) (400 for an unknown one) before
    the upload, so that errors name the backend; the upload and options last."""
    fields = form_fields()
    backends = compared_backends(svc, fields) if compare else [chosen_backend(svc, fields)]
    cache = use_cache(fields)
    reference = reference_text(fields) if compare else None
    document = read_document(svc, fields, expected)
    return OCRRequest(document, backends, fields, cache, reference)
