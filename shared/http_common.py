"""HTTP plumbing every Flask app of ours shares: request ids, JSON errors, in-memory uploads, logs."""
from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, Response, g, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from shared.api_contract import error_body
from shared.errors import MissingFile, OCRError, PayloadTooLarge
from shared.multipart import FastFormDataParser
from shared.uploads import UploadLimits, check_byte_size, clean_filename

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Multipart framing and small form fields on top of the file itself.
FORM_OVERHEAD_BYTES = 256 * 1024

log = logging.getLogger("ocr_service.http")


class UploadRequest(Request):
    """Parses multipart bodies with :class:`FastFormDataParser`, uploads kept in memory (the body is
    bounded by MAX_CONTENT_LENGTH) instead of spooled to disk."""

    form_data_parser_class = FastFormDataParser


def current_request_id() -> str:
    if has_request_context() and "request_id" in g:
        return g.request_id
    return "-"


def _assign_request_id() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g.started = time.perf_counter()


def _stamp_response(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = current_request_id()
    if request.path not in ("/health",):
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info(
            "%s %s -> %s in %.1f ms backend=%s bytes_in=%s",
            request.method,
            request.path,
            response.status_code,
            elapsed_ms,
            g.get("backend_name", "-"),
            request.content_length or 0,
        )
    return response


def error_response(
    code: str, message: str, status: int, *, retryable: bool = False, **extra: Any
) -> tuple[Response, int]:
    body = error_body(
        code, message, backend=g.get("backend_name"), request_id=current_request_id(), retryable=retryable
    )
    body.update(extra)
    return jsonify(body), status


def _handle_ocr_error(exc: OCRError) -> tuple[Response, int]:
    return error_response(exc.code, exc.message, exc.status, retryable=exc.retryable)


def _handle_http_error(exc: HTTPException) -> tuple[Response, int]:
    if isinstance(exc, RequestEntityTooLarge):
        limit = request.max_content_length
        return error_response(
            PayloadTooLarge.code, f"request body is over the upload limit ({limit} bytes with form overhead)", 413
        )
    code = re.sub(r"[^a-z0-9]+", "_", (exc.name or "http_error").lower()).strip("_")
    return error_response(code, exc.description or exc.name or "HTTP error", exc.code or 500)


def _handle_unexpected(exc: Exception) -> tuple[Response, int]:
    log.exception("unhandled error")
    return error_response("internal_error", f"internal error: {type(exc).__name__}", 500, retryable=True)


def install_common(app: Flask, limits: UploadLimits) -> None:
    """Request ids, JSON error handlers, in-memory uploads and the body limit, for any app of ours."""
    app.request_class = UploadRequest
    app.config["MAX_CONTENT_LENGTH"] = limits.max_bytes + FORM_OVERHEAD_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.before_request(_assign_request_id)
    app.after_request(_stamp_response)
    app.register_error_handler(OCRError, _handle_ocr_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(Exception, _handle_unexpected)


@dataclass(frozen=True)
class UploadedFile:
    data: bytes
    filename: str | None


def read_uploaded_file(limits: UploadLimits) -> UploadedFile:
    """The multipart ``file`` field (``image`` also accepted), size-checked."""
    storage = request.files.get("file") or request.files.get("image")
    if storage is None:
        raise MissingFile("send the document as the multipart form field 'file' (or 'image')")
    data = storage.read()
    check_byte_size(len(data), limits)
    return UploadedFile(data=data, filename=clean_filename(storage.filename))


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


def configure_logging(level: str = "INFO") -> None:
    """One line per record, each carrying the request id of the request it belongs to."""
    root = logging.getLogger()
    if getattr(root, "_ocr_service_configured", False):
        return
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdLogFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [rid=%(request_id)s] %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level)
    root._ocr_service_configured = True  # type: ignore[attr-defined]
