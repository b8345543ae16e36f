"""MinerU's exceptions as our errors: what the client can fix is a 4xx, missing models a 503 with
the command that installs them, a bug in the library a 500 that says retrying will not help."""

from __future__ import annotations

from collections.abc import Callable

from shared.errors import CorruptFile, InferenceFailed, InvalidOption, LibraryBug, ModelNotLoaded, OCRError

#: Exceptions that are a bug in the code that raised them: the same input raises them again.
PROGRAMMING_ERRORS: tuple[type[BaseException], ...] = (
    TypeError,
    AttributeError,
    NameError,
    LookupError,
    AssertionError,
    NotImplementedError,
    ValueError,
)


def engine_died(exc: BaseException) -> bool:
    """MinerU's own test for a VLM engine that is gone for good (it latches: every later call fails)."""
    from mineru.model.vlm.errors import is_fatal_engine_error

    return is_fatal_engine_error(exc)


def models_missing(exc: BaseException) -> bool:
    """MinerU's ``FileNotFoundError("Model repo … is not ready under …")``, raised when a parse
    reaches a model whose files are not installed (local model source: it never downloads)."""
    return isinstance(exc, FileNotFoundError) and str(exc).startswith("Model repo ")


def translate(exc: Exception, *, name: str, missing_reason: Callable[[], str | None]) -> OCRError:
    """The error a failed ``parse()`` answers with; ``missing_reason()`` gives the full reason and
    command when MinerU found model files missing (it names only the first repository)."""
    from mineru.errors import InvalidRequestError
    from pypdfium2 import PdfiumError

    if isinstance(exc, InvalidRequestError):  # MinerU refused the request itself: the client's to fix
        return InvalidOption(f"{name} refused the request: {exc}")
    if models_missing(exc):
        return ModelNotLoaded(f"{name} model is not loaded: {missing_reason() or exc}")
    if isinstance(exc, PdfiumError):  # PyMuPDF repaired it, MinerU's PDF engine cannot read it
        return CorruptFile(f"the PDF cannot be read by {name}'s PDF engine (pdfium): {exc}")
    if isinstance(exc, PROGRAMMING_ERRORS):
        return LibraryBug(f"{name} failed on this document with a bug: {type(exc).__name__}: {exc}")
    return InferenceFailed(f"{name} failed to parse the document: {type(exc).__name__}: {exc}")
