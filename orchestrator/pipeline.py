"""One document through one backend: the path every OCR request takes (``/ocr``, jobs, comparison).

Images go to the backend whole and its answer comes back untouched. PDFs are cut into page slices
(size per backend), which go to the backend concurrently (bounded per backend, per process);
with ``pdf_mode=auto`` pages that carry a usable text layer are read here with PyMuPDF and never
reach a model. The pages come back in page order, each saying where its text came from. A result
is cached under the document's hash, the backend, the options and the backend's model id.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import pymupdf

from orchestrator.backend_client import BackendAnswer
from orchestrator.pdf_pages import plan_slices, read_text_layer, slice_pdf
from orchestrator.result_cache import cache_key
from orchestrator.services import Services
from shared.api_contract import PAGE_SEPARATOR, utc_timestamp
from shared.errors import InvalidOption
from shared.options import parse_options
from shared.pdf import DEFAULT_DPI, inspect_pdf, parse_page_range
from shared.uploads import DetectedFormat, UploadLimits, detect_format, image_size

PDF_MODES = ("ocr", "auto")
#: Fields the orchestrator acts on itself; the backend never sees them.
ORCHESTRATOR_FIELDS = frozenset({"backend", "backends", "cache", "pdf_mode", "reference"})
_PAGE_WARNING = re.compile(r"^page \d+: ")
_WAIT_STEP_S = 0.2


class JobCancelled(Exception):
    """The job was cancelled while its document was being processed."""


class PageListener(Protocol):
    """Who follows a document page by page (a job); the synchronous path has none."""

    def started(self, backend: str, pages_total: int) -> None: ...

    def page_done(self, backend: str, page: dict[str, Any]) -> None: ...

    def cancelled(self) -> bool: ...


@dataclass(frozen=True)
class Document:
    data: bytes
    fmt: DetectedFormat
    filename: str | None
    page_count: int  # 1 for an image

    @cached_property
    def sha256(self) -> str:
        """Computed only when the cache needs it (about 0.6 ms per MB)."""
        return hashlib.sha256(self.data).hexdigest()

    @classmethod
    def from_upload(cls, data: bytes, filename: str | None, limits: UploadLimits) -> "Document":
        """Checked like every upload (type by content, bytes, pixels, pages) before any backend sees it."""
        fmt = detect_format(data)
        if fmt.kind == "image":
            image_size(data, fmt, limits)
            pages = 1
        else:
            pages = inspect_pdf(data, limits).page_count
        return cls(data, fmt, filename, pages)


@dataclass(frozen=True)
class RunRequest:
    backend: str
    fields: dict[str, str]  # as sent, minus the upload
    request_id: str
    use_cache: bool = True

    @property
    def pdf_mode(self) -> str:
        return check_pdf_mode(self.fields.get("pdf_mode"))

    def backend_fields(self, *, slice_: bool) -> dict[str, str]:
        drop = ORCHESTRATOR_FIELDS | ({"page_range"} if slice_ else frozenset())
        return {name: value for name, value in self.fields.items() if name not in drop}


@dataclass
class RunOutcome:
    """What the backend (or the cache) answered: the body as it goes to the client."""

    status: int
    body: bytes
    cached: bool = False
    _json: dict[str, Any] | None = field(default=None, repr=False)

    def json(self) -> dict[str, Any]:
        if self._json is None:
            self._json = json.loads(self.body)
        return self._json

    @classmethod
    def of(cls, status: int, body: dict[str, Any], *, cached: bool = False) -> "RunOutcome":
        return cls(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), cached, body)


def check_pdf_mode(value: str | None) -> str:
    mode = (value or "ocr").strip().lower()
    if mode not in PDF_MODES:
        raise InvalidOption(f"pdf_mode must be one of {', '.join(PDF_MODES)}, got {value!r}")
    return mode


def check_fields(document: Document, fields: dict[str, str]) -> None:
    """Refuse bad options before any backend's time is spent (400)."""
    parse_options({k: v for k, v in fields.items() if k not in ORCHESTRATOR_FIELDS})
    check_pdf_mode(fields.get("pdf_mode"))
    if document.fmt.kind == "pdf":
        parse_page_range(fields.get("page_range"), document.page_count)


class Pipeline:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._slots_lock = threading.Lock()

    def _backend_slots(self, backend: str) -> threading.BoundedSemaphore:
        with self._slots_lock:
            if backend not in self._slots:
                self._slots[backend] = threading.BoundedSemaphore(self.services.config.concurrency_for(backend))
            return self._slots[backend]

    # -- the cache ----------------------------------------------------------------------------------

    def _cache_key(self, document: Document, request: RunRequest) -> str | None:
        cache = self.services.cache
        if not (request.use_cache and cache.enabled):
            return None
        # Only what the background poll knows: asking the backend here would hold the request for up
        # to HEALTH_TIMEOUT on a backend that hangs.
        model = self.services.registry.status(request.backend).model
        if not model:
            return None  # a backend whose model we cannot name (yet) cannot be cached safely
        return cache_key(document.sha256, request.backend, request.fields, model)

    def _from_cache(self, key: str, request: RunRequest, listener: PageListener | None) -> RunOutcome | None:
        found = self.services.cache.get(key)
        if found is None:
            return None
        body, stored_at = found
        result = json.loads(body)
        result["request_id"] = request.request_id
        result["cache"] = {"hit": True, "stored_at": utc_timestamp(stored_at)}
        if listener is not None:
            listener.started(request.backend, len(result["pages"]))
            for page in result["pages"]:
                listener.page_done(request.backend, page)
        return RunOutcome.of(200, result, cached=True)

    # -- running ------------------------------------------------------------------------------------

    def run(self, document: Document, request: RunRequest, listener: PageListener | None = None) -> RunOutcome:
        key = self._cache_key(document, request)
        if key is not None and (hit := self._from_cache(key, request, listener)) is not None:
            return hit
        if document.fmt.kind == "image":
            outcome = self._run_image(document, request, listener)
        else:
            outcome = self._run_pdf(document, request, listener)
        if key is not None and outcome.status == 200:
            self.services.cache.put(key, request.backend, outcome.body)
        return outcome

    def _post(self, request: RunRequest, path: str, filename: str, data: bytes, mime: str,
              fields: dict[str, str]) -> BackendAnswer:
        """To the backend's best replica; another replica of the same backend if it cannot be reached."""
        return self.services.registry.call(request.backend, lambda url: self.services.client.post_document(
            request.backend, url, path, filename, data, mime, fields, request.request_id))

    def _run_image(self, document: Document, request: RunRequest, listener: PageListener | None) -> RunOutcome:
        if listener is not None:
            listener.started(request.backend, 1)
        answer = self._post(request, "/ocr/image", document.filename or f"upload.{document.fmt.name}",
                            document.data, document.fmt.mime, request.backend_fields(slice_=False))
        outcome = RunOutcome(answer.status, answer.body)
        if listener is not None and answer.status == 200:
            for page in outcome.json()["pages"]:
                listener.page_done(request.backend, {**page, "source": "backend"})
        return outcome

    def _run_pdf(self, document: Document, request: RunRequest, listener: PageListener | None) -> RunOutcome:
        started = time.perf_counter()
        config = self.services.config
        selected = parse_page_range(request.fields.get("page_range"), document.page_count)
        if listener is not None:
            listener.started(request.backend, len(selected))
        text_pages: dict[int, dict[str, Any]] = {}
        text_seconds = 0.0
        if request.pdf_mode == "auto":
            options = parse_options(request.backend_fields(slice_=False))
            read = read_text_layer(document.data, selected, dpi=options.dpi or DEFAULT_DPI,
                                   min_chars=config.text_layer_min_chars)
            text_pages = {index: page.to_json() for index, page in read.items()}
            text_seconds = time.perf_counter() - started
            if listener is not None:
                for index in sorted(text_pages):
                    listener.page_done(request.backend, text_pages[index])
        remaining = [index for index in selected if index not in text_pages]
        slices = plan_slices(remaining, config.slice_size(request.backend))
        answers = self._dispatch(document, request, slices, listener)
        if answers and answers[0].status != 200:
            return answers[0]
        return RunOutcome.of(200, self._assemble(document, request, selected, text_pages, slices, answers,
                                                 time.perf_counter() - started, text_seconds))

    def _dispatch(self, document: Document, request: RunRequest, slices: list[list[int]],
                  listener: PageListener | None) -> list[RunOutcome]:
        """Send the slices concurrently (at most the backend's bound at once in this process); stop
        sending after a failure or a cancel. Answers come back in slice order."""
        if not slices:
            return []
        stop = threading.Event()
        slots = self._backend_slots(request.backend)
        fields = request.backend_fields(slice_=True)
        whole = len(slices) == 1 and slices[0] == list(range(document.page_count))
        base = (document.filename or "document.pdf").rsplit(".", 1)[0]

        def send(pages: list[int]) -> RunOutcome | None:
            with slots:
                if stop.is_set():
                    return None
                data = document.data if whole else slice_pdf(document.data, pages)
                name = f"{base}.p{pages[0] + 1}-{pages[-1] + 1}.pdf"
                answer = self._post(request, "/ocr/pdf", name, data, "application/pdf", fields)
            outcome = RunOutcome(answer.status, answer.body)
            if answer.status != 200:
                stop.set()
                return outcome
            for page, index in zip(outcome.json()["pages"], pages):
                page["page"] = index + 1
                page["source"] = "backend"
                if listener is not None and not stop.is_set():
                    listener.page_done(request.backend, page)
            return outcome

        pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(len(slices), self.services.config.concurrency_for(
            request.backend)), thread_name_prefix=f"slices-{request.backend}")
        futures = [pool.submit(send, pages) for pages in slices]
        try:
            pending = set(futures)
            while pending:
                done, pending = concurrent.futures.wait(pending, timeout=_WAIT_STEP_S,
                                                        return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    answer = future.result()  # a transport error (503/504/502) ends the document now
                    if answer is not None and answer.status != 200:
                        return [answer]  # the backend's own error, passed on; the other slices are abandoned
                if listener is not None and listener.cancelled():
                    # Slices not started are never sent; those in flight are abandoned.
                    raise JobCancelled()
            return [answer for answer in (f.result() for f in futures) if answer is not None]
        finally:
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)

    def _assemble(self, document: Document, request: RunRequest, selected: list[int],
                  text_pages: dict[int, dict[str, Any]], slices: list[list[int]], answers: list[RunOutcome],
                  seconds: float, text_seconds: float) -> dict[str, Any]:
        bodies = [answer.json() for answer in answers]
        pages = sorted([*text_pages.values(), *(page for body in bodies for page in body["pages"])],
                       key=lambda page: page["page"])
        first = bodies[0] if bodies else None
        warnings: list[str] = []
        for body in bodies:
            warnings += [w for w in body.get("warnings", []) if not _PAGE_WARNING.match(w) and w not in warnings]
        warnings += [f"page {page['page']}: {w}" for page in pages for w in page["warnings"]]
        options = dict(first.get("options", {})) if first else {}
        options.update({"page_range": request.fields.get("page_range"), "pdf_mode": request.pdf_mode})
        timings = {"total": seconds, "backend": sum(body.get("processing_time", 0.0) for body in bodies)}
        if request.pdf_mode == "auto":
            timings["text_layer"] = text_seconds
        return {
            "success": True,
            "backend": request.backend,
            "model": first["model"] if first else f"PDF text layer (PyMuPDF {pymupdf.VersionBind})",
            "request_id": request.request_id,
            "image_name": document.filename,
            "document_type": "pdf",
            "raw_result": _merge_raw(bodies, slices),
            "markdown": PAGE_SEPARATOR.join(page["markdown"] for page in pages),
            "source_markdown": PAGE_SEPARATOR.join(page.get("source_markdown", page["markdown"]) for page in pages),
            "boxes_image": pages[0].get("boxes_image") if pages else None,
            "processing_time": round(seconds, 4),
            "timings": {name: round(value, 4) for name, value in timings.items()},
            "options": {k: v for k, v in options.items() if v is not None},
            "dispatch": {"slices": len(slices), "slice_pages": self.services.config.slice_size(request.backend),
                         "pages": len(selected), "text_layer_pages": sorted(i + 1 for i in text_pages)},
            "pages": pages,
            "warnings": warnings,
        }


def _merge_raw(bodies: list[dict[str, Any]], slices: list[list[int]]) -> dict[str, Any]:
    """One slice: the backend's own ``raw_result``; several: per key, the slices' in order, each
    with the (one-based) ``page_numbers`` it covers."""
    if len(bodies) == 1:
        return dict(bodies[0].get("raw_result", {}))
    merged: dict[str, Any] = {}
    for body, pages in zip(bodies, slices):
        for key, value in body.get("raw_result", {}).items():
            merged.setdefault(key, {"slices": []})["slices"].append({"page_numbers": [i + 1 for i in pages], **(
                value if isinstance(value, dict) else {"value": value})})
    return merged


__all__ = ["Document", "JobCancelled", "PageListener", "Pipeline", "RunOutcome", "RunRequest",
           "check_fields", "check_pdf_mode"]
