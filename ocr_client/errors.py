"""The service's errors as exceptions, one class per way a caller reacts to them (fix the input, fix
the key, wait for a backend, allow more time), each carrying the service's ``code`` and ``message``.

The class is told from the code's HTTP status in the service's one error registry (shared/errors.py),
so a new code lands in the right class without a change here."""

from __future__ import annotations

from typing import Any

from shared.errors import ERROR_CODES


class OCRServiceError(Exception):
    """Anything else: a bug in the service (500), a backend's bad answer (502), a rate limit (429)."""

    #: The CLI's exit status for this class (documented in ``ocr-service --help`` and the README).
    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retryable: bool = False,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.retryable = retryable
        self.request_id = request_id

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" if self.code else self.message


class BadInput(OCRServiceError):
    """The request itself is wrong: an unreadable or unsupported file, a bad option, an unknown
    backend or job (400, 404, 405, 413, 415, 422), or a local file that cannot be read."""

    exit_code = 3


class BackendDown(OCRServiceError):
    """The service or the backend cannot do it now: unreachable, loading, overloaded (503)."""

    exit_code = 4


class ServiceTimeout(OCRServiceError):
    """No answer in time: the backend's or model's time limit (504), or this client's own."""

    exit_code = 5


class AccessDenied(OCRServiceError):
    """No API key, a wrong one (401), or a request from a page of another site (403)."""

    exit_code = 6


def error_class(status: int | None) -> type[OCRServiceError]:
    if status is None:
        return OCRServiceError
    if status in (401, 403):
        return AccessDenied
    if status == 503:
        return BackendDown
    if status == 504:
        return ServiceTimeout
    if 400 <= status < 500 and status != 429:
        return BadInput
    return OCRServiceError


def from_error(error: Any, status: int | None, request_id: str | None = None) -> OCRServiceError:
    """The exception for the contract's ``error`` object (``{code, message, retryable}``), classed by
    the code's registered status, else by the HTTP ``status`` it came with."""
    if not isinstance(error, dict):
        return error_class(status)(f"HTTP {status}: the service's answer has no error object", status=status)
    code = str(error.get("code") or "") or None
    known = ERROR_CODES.get(code or "")
    kind = error_class(known.status if known else status)
    return kind(
        str(error.get("message") or code or f"HTTP {status}"),
        code=code,
        status=status,
        retryable=bool(error.get("retryable", False)),
        request_id=request_id,
    )


#: The exit statuses by class, for ``--help`` and the README: (status, class, meaning).
EXIT_CODES = (
    (0, None, "success"),
    (1, OCRServiceError, "other error (the service's bug, a backend's bad answer, a rate limit)"),
    (2, None, "wrong command line"),
    (3, BadInput, "bad input: the file, an option, the backend's name"),
    (4, BackendDown, "the service or the backend is down, loading or overloaded"),
    (5, ServiceTimeout, "timeout"),
    (6, AccessDenied, "API key missing or wrong"),
)
