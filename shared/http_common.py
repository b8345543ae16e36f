"""HTTP plumbing every Flask app of ours shares: request ids, JSON errors, in-memory uploads, logs."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, Response, current_app, g, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from shared.api_contract import error_body
from shared.config import env_str
from shared.errors import HTTP_STATUS_ERRORS, BadRequest, MissingFile, OCRError, PayloadTooLarge
from shared.metrics import metric_backend, observe_request
from shared.multipart import LIMITS_KEY, FastFormDataParser
from shared.request_log import JsonFormatter, log_request
from shared.uploads import UploadLimits, check_byte_size, clean_filename

REQUEST_ID_HEADER = "X-Request-ID"
#: Seconds the caller waits for the answer (the orchestrator sends its read timeout): a backend drops
#: a request still waiting for its work slot after that long, since no one will read its answer.
REQUEST_TIMEOUT_HEADER = "X-Request-Timeout"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: Paths polled by probes and scrapers: counted in the metrics, but no access line each time.
QUIET_PATHS = frozenset({"/health", "/live", "/ready", "/metrics"})
#: app.config keys: the service name (``orchestrator`` or ``backend``) and the configured backends.
SERVICE_KEY = "OCR_SERVICE"
BACKENDS_KEY = "OCR_BACKEND_NAMES"

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


def _error_code(response: Response) -> str | None:
    if response.status_code < 400 or response.is_streamed or not response.is_json:
        return None
    body = response.get_json(silent=True)  # error bodies are small; passed-through ones included
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code")) if isinstance(error, dict) and error.get("code") else "unknown"


def _stamp_response(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = current_request_id()
    seconds = time.perf_counter() - g.get("started", time.perf_counter())
    service = current_app.config.get(SERVICE_KEY, "ocr")
    backend = metric_backend(g.get("backend_name"), current_app.config.get(BACKENDS_KEY, ()))
    endpoint = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    code = _error_code(response)
    observe_request(service, backend, endpoint, response.status_code, seconds, code)
    if request.path not in QUIET_PATHS:
        log_request(
            {
                "method": request.method,
                "path": request.path,
                "endpoint": endpoint,
                "backend": backend,
                "status": response.status_code,
                "error_code": code,
                "bytes_in": request.content_length or 0,
                "bytes_out": None if response.is_streamed else response.content_length,
                "duration_ms": round(seconds * 1000, 2),
                "client": request.remote_addr,
            }
        )
    return response


def error_response(error: OCRError, **extra: Any) -> tuple[Response, int]:
    """The contract's error shape for ``error``, with ``Retry-After`` when it says when to retry."""
    body = error_body(error, backend=g.get("backend_name"), request_id=current_request_id())
    body.update(extra)
    response = jsonify(body)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, int(error.retry_after + 0.999)))
    return response, error.status


def _handle_http_error(exc: HTTPException) -> tuple[Response, int]:
    if isinstance(exc, RequestEntityTooLarge):
        limit = request.max_content_length
        return error_response(
            PayloadTooLarge(f"request body is over the upload limit ({limit} bytes with form overhead)")
        )
    kind = HTTP_STATUS_ERRORS.get(exc.code or 500)
    message = exc.description or exc.name or "HTTP error"
    if kind is None:
        return error_response(BadRequest(message) if (exc.code or 500) < 500 else OCRError(message))
    return error_response(kind(message))


def _handle_unexpected(exc: Exception) -> tuple[Response, int]:
    log.exception("unhandled error")
    return error_response(OCRError(f"internal error: {type(exc).__name__}"))


def install_common(app: Flask, limits: UploadLimits, *, service: str = "ocr", backends: Iterable[str] = ()) -> None:
    """Request ids, JSON error handlers, in-memory uploads, the body limit, metrics and access logs,
    for any app of ours. ``service`` and ``backends`` label the metrics."""
    app.config[SERVICE_KEY] = service
    app.config[BACKENDS_KEY] = frozenset(backends)
    app.request_class = UploadRequest
    app.config["MAX_CONTENT_LENGTH"] = limits.max_body_bytes
    app.config[LIMITS_KEY] = limits
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.before_request(_assign_request_id)
    app.after_request(_stamp_response)
    app.register_error_handler(OCRError, error_response)
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


def configure_logging(level: str = "INFO", service: str = "ocr") -> None:
    """One line per record, each carrying the request id of the request it belongs to: a JSON object
    (``LOG_FORMAT=json``, the default) or plain text (``LOG_FORMAT=text``)."""
    root = logging.getLogger()
    if getattr(root, "_ocr_service_configured", False):
        return
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdLogFilter())
    if env_str("LOG_FORMAT", "json").lower() == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [rid=%(request_id)s] %(message)s"))
    else:
        handler.setFormatter(JsonFormatter(service))
    root.addHandler(handler)
    root.setLevel(level)
    root._ocr_service_configured = True  # type: ignore[attr-defined]
