"""One document through one backend: the path every OCR request takes (``/ocr``, jobs, comparison).

Images go to the backend whole and its answer comes back untouched. PDFs are cut into page slices
(size per backend), which go to the backend concurrently (bounded per backend, per process);
with ``pdf_mode=auto`` pages that carry a usable text layer are read here with PyMuPDF and never
reach a model. The pages come back in page order, each saying where its text came from. A result
is cached under the document's hash, the backend, the request's options and the backend's
fingerprint (model, settings, versions).
"""

from __future__ import annotations

import concurrent.futures
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import pymupdf

from orchestrator.backend_client import BackendAnswer
from orchestrator.ocr_request import OCRRequest
from orchestrator.pdf_pages import plan_slices, read_text_layer, slice_pdf
from orchestrator.result_cache import cache_key
from orchestrator.services import Services
from shared.api_contract import build_result, utc_timestamp
from shared.errors import BadBackendAnswer
from shared.pdf import DEFAULT_DPI

_WAIT_STEP_S = 0.2


class JobCancelled(Exception):
    """The job was cancelled while its document was being processed."""


class PageListener(Protocol):
    """Who follows a document page by page (a job); the synchronous path has none."""

    def started(self, backend: str, pages_total: int) -> None: ...

    def page_done(self, backend: str, page: dict[str, Any]) -> None: ...

    def cancelled(self) -> bool: ...


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
    def of(cls, status: int, body: dict[str, Any], *, cached: bool = False) -> RunOutcome:
        return cls(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), cached, body)


def answered_pages(backend: str, outcome: RunOutcome, expected: int) -> list[dict[str, Any]]:
    """The pages of a successful backend answer, which must be ``expected`` of them: a backend that
    drops or adds pages is a 502 naming it, never pages silently lost or misnumbered."""
    try:
        pages = outcome.json().get("pages")
    except (ValueError, AttributeError):
        raise BadBackendAnswer(f"backend '{backend}' answered 200 with a body that is not a JSON object") from None
    if not isinstance(pages, list) or not all(isinstance(page, dict) for page in pages):
        raise BadBackendAnswer(f"backend '{backend}' answered 200 without a list of pages")
    if len(pages) != expected:
        raise BadBackendAnswer(f"backend '{backend}' answered a {expected}-page request with {len(pages)} pages")
    return pages


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

    def _cache_key(self, request: OCRRequest, backend: str) -> str | None:
        cache = self.services.cache
        if not (request.use_cache and cache.enabled):
            return None
        # Only what the background poll knows: asking the backend here would hold the request for up
        # to HEALTH_TIMEOUT on a backend that hangs.
        fingerprint = self.services.registry.status(backend).fingerprint
        if not fingerprint:
            return None  # a backend whose output we cannot pin down (yet) cannot be cached safely
        return cache_key(request.document.sha256, backend, request.cache_options(), fingerprint)

    def _from_cache(
        self, key: str, request: OCRRequest, backend: str, listener: PageListener | None
    ) -> RunOutcome | None:
        found = self.services.cache.get(key)
        if found is None:
            return None
        body, stored_at = found
        result = json.loads(body)
        # Every per-request field is this request's: an entry stored for another client (another
        # file name, the same options written differently) shows nothing of that client's.
        result["request_id"] = request.request_id
        result["image_name"] = request.document.upload_name
        result["options"] = {**result.get("options", {}), **request.sent_options()}
        result["cache"] = {"hit": True, "stored_at": utc_timestamp(stored_at)}
        if listener is not None:
            listener.started(backend, len(result["pages"]))
            for page in result["pages"]:
                listener.page_done(backend, page)
        return RunOutcome.of(200, result, cached=True)

    # -- running ------------------------------------------------------------------------------------

    def run(self, request: OCRRequest, backend: str, listener: PageListener | None = None) -> RunOutcome:
        key = self._cache_key(request, backend)
        if key is not None and (hit := self._from_cache(key, request, backend, listener)) is not None:
            return hit
        if request.is_pdf:
            outcome = self._run_pdf(request, backend, listener)
        else:
            outcome = self._run_image(request, backend, listener)
        if key is not None and outcome.status == 200:
            self.services.cache.put(key, backend, outcome.body)
        return outcome

    def _post(
        self,
        request: OCRRequest,
        backend: str,
        path: str,
        filename: str,
        data: bytes,
        mime: str,
    ) -> RunOutcome:
        """To the backend's best replica; another replica of the same backend if it cannot be reached."""
        slice_of_pdf = path == "/ocr/pdf"
        answer: BackendAnswer = self.services.registry.call(
            backend,
            lambda url: self.services.client.post_document(
                backend,
                url,
                path,
                filename,
                data,
                mime,
                request.options_for(backend),
                request.request_id,
                slice_of_pdf=slice_of_pdf,
            ),
        )
        return RunOutcome(answer.status, answer.body)

    def _run_image(self, request: OCRRequest, backend: str, listener: PageListener | None) -> RunOutcome:
        document = request.document
        if listener is not None:
            listener.started(backend, 1)
        outcome = self._post(
            request,
            backend,
            "/ocr/image",
            document.upload_name,
            document.data,
            document.fmt.mime,
        )
        if listener is not None and outcome.status == 200:
            for page in answered_pages(backend, outcome, 1):
                listener.page_done(backend, {**page, "source": "backend"})
        return outcome

    def _run_pdf(self, request: OCRRequest, backend: str, listener: PageListener | None) -> RunOutcome:
        started = time.perf_counter()
        config = self.services.config
        selected = list(request.pages)
        if listener is not None:
            listener.started(backend, len(selected))
        text_pages: dict[int, dict[str, Any]] = {}
        text_seconds = 0.0
        if request.pdf_mode == "auto":
            read = read_text_layer(
                request.document.data,
                selected,
                dpi=request.options.dpi or DEFAULT_DPI,
                min_chars=config.text_layer_min_chars,
            )
            text_pages = {index: page.to_json(index + 1) for index, page in read.items()}
            text_seconds = time.perf_counter() - started
            if listener is not None:
                for index in sorted(text_pages):
                    listener.page_done(backend, text_pages[index])
        remaining = [index for index in selected if index not in text_pages]
        slices = plan_slices(remaining, config.slice_size(backend))
        answers = self._dispatch(request, backend, slices, listener)
        if answers and answers[0].status != 200:
            return answers[0]
        return RunOutcome.of(
            200,
            self._assemble(request, backend, text_pages, slices, answers, time.perf_counter() - started, text_seconds),
        )

    def _dispatch(
        self, request: OCRRequest, backend: str, slices: list[list[int]], listener: PageListener | None
    ) -> list[RunOutcome]:
        """Send the slices concurrently (at most the backend's bound at once in this process); stop
        sending after a failure or a cancel. Answers come back in slice order."""
        if not slices:
            return []
        document = request.document
        stop = threading.Event()
        slots = self._backend_slots(backend)
        whole = len(slices) == 1 and slices[0] == list(range(document.page_count))
        base = document.upload_name.rsplit(".", 1)[0]

        def send(pages: list[int]) -> RunOutcome | None:
            with slots:
                if stop.is_set():
                    return None
                data = document.data if whole else slice_pdf(document.data, pages)
                name = f"{base}.p{pages[0] + 1}-{pages[-1] + 1}.pdf"
                outcome = self._post(request, backend, "/ocr/pdf", name, data, "application/pdf")
            if outcome.status != 200:
                stop.set()
                return outcome
            for page, index in zip(answered_pages(backend, outcome, len(pages)), pages, strict=True):
                page["page"] = index + 1
                page["source"] = "backend"
                if listener is not None and not stop.is_set():
                    listener.page_done(backend, page)
            return outcome

        pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=min(len(slices), self.services.config.concurrency_for(backend)),
            thread_name_prefix=f"slices-{backend}",
        )
        futures = [pool.submit(send, pages) for pages in slices]
        try:
            pending = set(futures)
            while pending:
                done, pending = concurrent.futures.wait(
                    pending, timeout=_WAIT_STEP_S, return_when=concurrent.futures.FIRST_COMPLETED
                )
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

    def _assemble(
        self,
        request: OCRRequest,
        backend: str,
        text_pages: dict[int, dict[str, Any]],
        slices: list[list[int]],
        answers: list[RunOutcome],
        seconds: float,
        text_seconds: float,
    ) -> dict[str, Any]:
        bodies = [answer.json() for answer in answers]
        pages = sorted(
            [*text_pages.values(), *(page for body in bodies for page in body["pages"])], key=lambda page: page["page"]
        )
        first = bodies[0] if bodies else None
        options = {**(first.get("options", {}) if first else {}), **request.sent_options()}
        timings = {"total": seconds, "backend": sum(body.get("processing_time", 0.0) for body in bodies)}
        if request.pdf_mode == "auto":
            timings["text_layer"] = text_seconds
        return build_result(
            backend=backend,
            model=first["model"] if first else f"PDF text layer (PyMuPDF {pymupdf.VersionBind})",
            request_id=request.request_id,
            image_name=request.document.upload_name,
            document_type="pdf",
            pages=pages,
            raw_result=_merge_raw(bodies, slices),
            processing_time=seconds,
            timings=timings,
            options={name: value for name, value in options.items() if value is not None},
            warnings=[warning for body in bodies for warning in body.get("warnings", [])],
            dispatch={
                "slices": len(slices),
                "slice_pages": self.services.config.slice_size(backend),
                "pages": len(request.pages),
                "text_layer_pages": sorted(i + 1 for i in text_pages),
            },
        )


def _merge_raw(bodies: list[dict[str, Any]], slices: list[list[int]]) -> dict[str, Any]:
    """One slice: the backend's own ``raw_result``; several: per key, the slices' in order, each
    with the (one-based) ``page_numbers`` it covers."""
    if len(bodies) == 1:
        return dict(bodies[0].get("raw_result", {}))
    merged: dict[str, Any] = {}
    for body, pages in zip(bodies, slices, strict=True):
        for key, value in body.get("raw_result", {}).items():
            merged.setdefault(key, {"slices": []})["slices"].append(
                {"page_numbers": [i + 1 for i in pages], **(value if isinstance(value, dict) else {"value": value})}
            )
    return merged


__all__ = ["JobCancelled", "PageListener", "Pipeline", "RunOutcome", "answered_pages"]
