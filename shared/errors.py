"""Every error the service returns on purpose, in one registry.

Each error is an :class:`OCRError` subclass here: a stable machine-readable ``code``, the HTTP status
it maps to, whether retrying can help, and a one-line meaning (its docstring). Defining the class
registers it in :data:`ERROR_CODES`; the README's error table is rendered from that registry
(``python -m shared.errors``) and a test checks that every code raised anywhere is in it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    retryable: bool
    meaning: str


#: code → what it means; filled in as the classes below are defined.
ERROR_CODES: dict[str, ErrorCode] = {}


def _register(code: str, status: int, retryable: bool, doc: str | None) -> None:
    meaning = " ".join((doc or "").split()).replace("``", "`")
    known = ERROR_CODES.get(code)
    if known is not None and (known.status, known.retryable) != (status, retryable):
        raise TypeError(f"error code {code!r} is registered twice with different status or retryable")
    ERROR_CODES[code] = ErrorCode(code, status, retryable, meaning)


class OCRError(Exception):
    """An unexpected failure inside the service (a bug); the message names the exception type."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    retryable: ClassVar[bool] = True
    #: Seconds a client should wait before retrying; sent as ``Retry-After`` when set.
    retry_after: float | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _register(cls.code, cls.status, cls.retryable, cls.__doc__)

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retry_after is not None:
            self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        """The ``error`` object of the contract's error shape."""
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


_register(OCRError.code, OCRError.status, OCRError.retryable, OCRError.__doc__)


# -- 400: the request itself ------------------------------------------------------------------------


class BadRequest(OCRError):
    """The request is not what the endpoint takes (HTTP-level problem)."""

    code, status, retryable = "bad_request", 400, False


class MalformedForm(OCRError):
    """The multipart form cannot be parsed, has too many parts, or a field over its size limit."""

    code, status, retryable = "malformed_form", 400, False


class MissingFile(OCRError):
    """No document in the form field ``file`` (or ``image``)."""

    code, status, retryable = "missing_file", 400, False


class EmptyUpload(OCRError):
    """The uploaded document has no bytes."""

    code, status, retryable = "empty_upload", 400, False


class InvalidOption(OCRError):
    """An option has a bad value (the message names it and what is allowed)."""

    code, status, retryable = "invalid_option", 400, False


class UnknownBackend(OCRError):
    """The backend named is not configured; the message lists the available ones."""

    code, status, retryable = "unknown_backend", 400, False


class Unauthorized(OCRError):
    """No API key (or backend token) was sent, or a wrong one."""

    code, status, retryable = "unauthorized", 401, False


class NotFound(OCRError):
    """No such endpoint."""

    code, status, retryable = "not_found", 404, False


class JobNotFound(OCRError):
    """No such job: unknown, or its result expired."""

    code, status, retryable = "job_not_found", 404, False


class EvaluationNotFound(OCRError):
    """No evaluation with that id (or of that document), or it has expired, or it is another API key's."""

    code, status, retryable = "evaluation_not_found", 404, False


class UnsafeArchive(OCRError):
    """A zip of a labelled set cannot be read, or names a file outside itself (an absolute path, `..`)."""

    code, status, retryable = "unsafe_archive", 400, False


class InvalidLabelledSet(OCRError):
    """A labelled set is incomplete: a document without its ground truth (`name.txt` or `name.md`), a
    truth without its document, a `labels.csv` row naming no document, or no documents at all."""

    code, status, retryable = "invalid_labelled_set", 422, False


class PageNotFound(OCRError):
    """The job has no such page (outside its document or its page range), or its document was not kept."""

    code, status, retryable = "page_not_found", 404, False


class MethodNotAllowed(OCRError):
    """The endpoint exists but not for this HTTP method."""

    code, status, retryable = "method_not_allowed", 405, False


# -- 413, 415, 422: the document ------------------------------------------------------------------


class CrossSiteRefused(OCRError):
    """A browser sent this request from a page of another site (its `Origin` is not in `CORS_ORIGINS`)
    to an orchestrator without API keys: refused, so that a web page cannot use a visitor's access."""

    code, status, retryable = "cross_site_refused", 403, False


class PayloadTooLarge(OCRError):
    """The request body is over the upload limit."""

    code, status, retryable = "payload_too_large", 413, False


class TooManyPixels(OCRError):
    """The image (or a rendered PDF page) is over the pixel limit; bombs are refused from the header."""

    code, status, retryable = "too_many_pixels", 413, False


class TooManyPages(OCRError):
    """The PDF has more pages than the limit."""

    code, status, retryable = "too_many_pages", 413, False


class UnsupportedMediaType(OCRError):
    """Not PNG, JPEG, WebP, TIFF, BMP or PDF (told from the content), or the wrong kind for the route."""

    code, status, retryable = "unsupported_media_type", 415, False


class CorruptFile(OCRError):
    """The document cannot be read: a broken image or PDF."""

    code, status, retryable = "corrupt_file", 422, False


class EncryptedPdf(OCRError):
    """The PDF needs a password."""

    code, status, retryable = "encrypted_pdf", 422, False


class UnreadableImageShape(OCRError):
    """The image's shape is beyond what the backend's engine can read (e.g. one pixel high and
    thousands wide), after padding and scaling were tried."""

    code, status, retryable = "unreadable_image_shape", 422, False


# -- 429, 5xx: the service ------------------------------------------------------------------------


class RateLimited(OCRError):
    """This client sent more requests per minute than allowed; ``Retry-After`` says when to retry."""

    code, status, retryable = "rate_limited", 429, True


class InferenceFailed(OCRError):
    """The model failed on this document."""

    code, status, retryable = "inference_failed", 500, True


class LibraryBug(OCRError):
    """The model's library failed on this document with a programming error (a bug, not a passing
    condition): the same request fails the same way; the message names the exception."""

    code, status, retryable = "library_bug", 500, False


class BadBackendAnswer(OCRError):
    """The backend answered with something that is not its contract (not JSON, wrong page count)."""

    code, status, retryable = "bad_backend_response", 502, True


class ModelNotLoaded(OCRError):
    """The backend's model is still loading or cannot load (the message says which and why)."""

    code, status, retryable = "model_not_loaded", 503, True


class BackendUnavailable(OCRError):
    """The orchestrator cannot reach the backend named (none of its replicas answers)."""

    code, status, retryable = "backend_unavailable", 503, True


class NoHealthyBackend(OCRError):
    """A comparison named no backends and none is healthy now."""

    code, status, retryable = "no_healthy_backend", 503, True


class Overloaded(OCRError):
    """More work is waiting than the configured bound allows; ``Retry-After`` says when to retry."""

    code, status, retryable = "overloaded", 503, True


class OrchestratorUnavailable(OCRError):
    """The front proxy could not get an answer from the orchestrator (starting, restarting, or too
    slow); nothing was done with the request."""

    code, status, retryable = "orchestrator_unavailable", 503, True


class OrchestratorRestarted(OCRError):
    """The orchestrator process running this job stopped (restart or crash) before it finished."""

    code, status, retryable = "orchestrator_restarted", 503, True


class StateUnavailable(OCRError):
    """The orchestrator's job database cannot be used now (disk full, damaged, being recreated), so
    no job can be created or read; synchronous OCR still works."""

    code, status, retryable = "state_unavailable", 503, True


class BackendTimeout(OCRError):
    """The backend did not answer within the orchestrator's read timeout."""

    code, status, retryable = "backend_timeout", 504, True


class RequestAbandoned(OCRError):
    """A backend dropped the request before starting it: its caller had gone (closed the
    connection) or its `X-Request-Timeout` had passed while it waited for a work slot."""

    code, status, retryable = "request_abandoned", 504, True


class InferenceTimeout(OCRError):
    """The model did not finish this document within the backend's own time limit."""

    code, status, retryable = "inference_timeout", 504, True


#: werkzeug's HTTP errors that can reach a client, by status, as our codes.
HTTP_STATUS_ERRORS: dict[int, type[OCRError]] = {
    400: BadRequest,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def markdown_table() -> str:
    """The README's error table, one row per code, by status."""
    rows = ["| status | code | retry? | meaning |", "|---|---|---|---|"]
    for entry in sorted(ERROR_CODES.values(), key=lambda e: (e.status, e.code)):
        rows.append(f"| {entry.status} | `{entry.code}` | {'yes' if entry.retryable else 'no'} | {entry.meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.stdout.write(markdown_table() + "\n")
