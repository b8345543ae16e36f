"""Errors that end a request with a JSON error body.

Every error the service returns on purpose is an :class:`OCRError`: a stable machine-readable
``code``, the HTTP status it maps to, a message for people and whether retrying can help.
"""
from __future__ import annotations


class OCRError(Exception):
    """An error with a stable code and an HTTP status; rendered as the contract's error shape."""

    code = "internal_error"
    status = 500
    retryable = False
    #: Seconds a client should wait before retrying; sent as ``Retry-After`` when set.
    retry_after: float | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if retryable is not None:
            self.retryable = retryable
        if retry_after is not None:
            self.retry_after = retry_after


class BadRequest(OCRError):
    code, status = "bad_request", 400


class MissingFile(OCRError):
    code, status = "missing_file", 400


class EmptyUpload(OCRError):
    code, status = "empty_upload", 400


class InvalidOption(OCRError):
    code, status = "invalid_option", 400


class PayloadTooLarge(OCRError):
    code, status = "payload_too_large", 413


class TooManyPixels(OCRError):
    code, status = "too_many_pixels", 413


class TooManyPages(OCRError):
    code, status = "too_many_pages", 413


class UnsupportedMediaType(OCRError):
    code, status = "unsupported_media_type", 415


class CorruptFile(OCRError):
    code, status = "corrupt_file", 422


class EncryptedPdf(OCRError):
    code, status = "encrypted_pdf", 422


class ModelNotLoaded(OCRError):
    code, status, retryable = "model_not_loaded", 503, True


class InferenceFailed(OCRError):
    code, status, retryable = "inference_failed", 500, True


class InferenceTimeout(OCRError):
    code, status, retryable = "inference_timeout", 504, True


class Overloaded(OCRError):
    """More work is waiting than the configured bound allows: come back later (``Retry-After``)."""

    code, status, retryable = "overloaded", 503, True


class RateLimited(OCRError):
    code, status, retryable = "rate_limited", 429, True


class Unauthorized(OCRError):
    code, status = "unauthorized", 401
