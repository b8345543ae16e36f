"""One OCR request, parsed once at the edge and carried whole through the pipeline, comparisons and
jobs: the document, the backend(s), the typed options, the PDF mode and page selection, cache use
and the reference text. Turned back into form fields only by the backend client."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from orchestrator.document import Document
from shared.config import ConfigError, parse_bool
from shared.errors import InvalidOption
from shared.options import FormField, OCROptions, parse_options
from shared.pdf import parse_page_range
from shared.published_options import check_options
from shared.uploads import REFERENCE_FIELD

PdfMode = Literal["ocr", "auto"]
PDF_MODES: tuple[PdfMode, ...] = ("ocr", "auto")

#: The fields the orchestrator acts on itself (:data:`~shared.options.ORCHESTRATOR_FIELDS`), declared
#: once for the parsers here and in routes/inputs.py and for the API description. The backends' names
#: and the default backend are the configuration's: the API description adds them when it is built.
BACKEND = FormField("backend", "string", "The backend to use; default: the configured default backend.")
BACKENDS = FormField(
    "backends", "string", "Comma-separated backends to compare, order kept; default: every backend healthy now."
)
REFERENCE = FormField(
    REFERENCE_FIELD,
    "string",
    "Ground truth (UTF-8 text, as a field or a file part): each result gets its CER and WER against it.",
)
CACHE = FormField("cache", "boolean", "Use the result cache (a repeated request is answered from it).", True)
PDF_MODE = FormField(
    "pdf_mode",
    "string",
    "`ocr`: every PDF page through the backend; `auto`: pages with a usable text layer read from it.",
    "ocr",
    choices=PDF_MODES,
)
ORCHESTRATOR_FORM = {field.name: field for field in (BACKEND, BACKENDS, REFERENCE, CACHE, PDF_MODE)}


@dataclass(frozen=True)
class OCRRequest:
    document: Document
    backends: tuple[str, ...]
    options: OCROptions
    request_id: str
    pdf_mode: PdfMode = PDF_MODES[0]
    #: The selected pages of a PDF, zero-based, in order (every page when no ``page_range``).
    pages: tuple[int, ...] = ()
    use_cache: bool = True
    reference: str | None = None
    #: The options each backend gets, where they differ from :attr:`options` (a comparison sends each
    #: backend only the options it publishes).
    per_backend: Mapping[str, OCROptions] = field(default_factory=dict)

    @property
    def is_pdf(self) -> bool:
        return self.document.fmt.kind == "pdf"

    def options_for(self, backend: str) -> OCROptions:
        """What is forwarded to ``backend``."""
        return self.per_backend.get(backend, self.options)

    def sent_options(self) -> dict[str, Any]:
        """The options as this client sent them (defaults filled in): what its results and jobs report."""
        options = self.options.to_json()
        if self.is_pdf:
            options["pdf_mode"] = self.pdf_mode
        return options

    def cache_options(self) -> dict[str, Any]:
        """What of the request decides the result, for the cache key: values exact, defaults filled in,
        the page selection as the pages it selects (``1-3`` and ``1,2,3`` are the same request)."""
        options = self.sent_options()
        if self.is_pdf:
            options["page_range"] = [index + 1 for index in self.pages]
        return options


def check_pdf_mode(value: str | None) -> PdfMode:
    mode = (value or PDF_MODE.default_text).strip().lower()
    if mode not in PDF_MODES:
        raise InvalidOption(f"{PDF_MODE.name} must be one of {', '.join(PDF_MODES)}, got {value!r}")
    return mode


def check_reference(text: str | None, max_chars: int) -> str | None:
    if text is not None and len(text) > max_chars:
        raise InvalidOption(f"reference is {len(text)} characters; the limit is {max_chars}")
    return text


def parse_request(
    fields: Mapping[str, str],
    *,
    document: Document,
    backends: tuple[str, ...],
    request_id: str,
    reference: str | None = None,
    published: Callable[[str], Sequence[FormField] | None] = lambda _name: None,
) -> OCRRequest:
    """Every field checked before any backend's time is spent (400 on a bad value), the backends' own
    options against what each one ``published`` (None: not known yet, forwarded unchecked)."""
    try:
        use_cache = parse_bool(CACHE.name, fields.get(CACHE.name) or CACHE.default_text)
    except ConfigError as exc:
        raise InvalidOption(str(exc)) from None
    options = parse_options(fields)
    per_backend = check_options(options, {name: published(name) for name in backends})
    pages = tuple(parse_page_range(options.page_range, document.page_count)) if document.fmt.kind == "pdf" else ()
    return OCRRequest(
        document=document,
        backends=backends,
        options=options,
        request_id=request_id,
        pdf_mode=check_pdf_mode(fields.get(PDF_MODE.name)),
        pages=pages,
        use_cache=use_cache,
        reference=reference,
        per_backend={name: sent for name, sent in per_backend.items() if sent != options},
    )
