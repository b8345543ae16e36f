"""Runs evaluations in the background of this orchestrator process: every document of the set
through every chosen backend with the one pipeline (cache, page slicing, per-backend bounds), one
document × backend at a time, so an evaluation never puts more load on a backend than one job does.
Each result is scored and stored as it finishes; cancel is checked between and during documents."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from flask import current_app

from orchestrator import recycling
from orchestrator.evaluation_scores import Scored, score
from orchestrator.evaluation_store import EvaluationStore
from orchestrator.job_runner import CANCEL_CHECK_S
from orchestrator.labelled_set import LabelledDocument
from orchestrator.ocr_request import OCRRequest
from orchestrator.pipeline import JobCancelled, Pipeline
from orchestrator.text_normalization import Normalization
from shared.api_contract import error_body
from shared.errors import OCRError, Overloaded, StateUnavailable

log = logging.getLogger(__name__)
#: What a stored page leaves out: the boxes picture is large and the view draws boxes itself.
PAGE_DROPPED = ("boxes_image",)


@dataclass
class EvaluationWork:
    """What one evaluation needs in memory: its documents, each with its parsed request."""

    documents: list[tuple[LabelledDocument, OCRRequest]]
    backends: tuple[str, ...]
    normalization: Normalization

    @property
    def size(self) -> int:
        return sum(len(doc.document.data) + len(doc.reference) for doc, _ in self.documents)


class _Listener:
    """Collects one document's pages; says when the evaluation was cancelled (here or by another worker)."""

    def __init__(self, store: EvaluationStore, evaluation_id: str, cancel: threading.Event) -> None:
        self.store, self.evaluation_id, self.cancel = store, evaluation_id, cancel
        self._checked = 0.0

    def started(self, backend: str, pages_total: int) -> None:
        pass

    def page_done(self, backend: str, page: dict[str, Any]) -> None:
        pass

    def cancelled(self) -> bool:
        now = time.monotonic()
        if not self.cancel.is_set() and now - self._checked >= CANCEL_CHECK_S:
            self._checked = now
            if self.store.status(self.evaluation_id) == "cancelled":
                self.cancel.set()
        return self.cancel.is_set()


class EvaluationRunner:
    def __init__(
        self,
        store: EvaluationStore,
        pipeline: Pipeline,
        workers: int,
        *,
        max_pending: int,
        max_pending_bytes: int,
        retry_after: float,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.max_pending = max_pending
        self.max_pending_bytes = max_pending_bytes
        self.retry_after = retry_after
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="evaluation")
        self._held: dict[str, tuple[threading.Event, EvaluationWork | None, int]] = {}
        self._lock = threading.Lock()

    def submit(self, work: EvaluationWork, options: dict[str, Any], tenant: str | None) -> str:
        size = work.size
        with self._lock:
            if recycling.closing():
                raise Overloaded("this orchestrator worker is being recycled; retry", retry_after=1)
            held_bytes = sum(held[2] for held in self._held.values())
            if len(self._held) >= self.max_pending or (self._held and held_bytes + size > self.max_pending_bytes):
                raise Overloaded(
                    f"this worker holds {len(self._held)} evaluations ({held_bytes // 2**20} MiB of documents); "
                    "retry later",
                    retry_after=self.retry_after,
                )
            evaluation_id = self.store.create(
                list(work.backends),
                work.normalization.to_json(),
                options,
                [(doc.name, doc.kind, doc.document.page_count, doc.reference) for doc, _ in work.documents],
                tenant,
            )
            self._held[evaluation_id] = (threading.Event(), work, size)
        self._pool.submit(self._run, evaluation_id)
        return evaluation_id

    def pending(self) -> int:
        with self._lock:
            return len(self._held)

    def cancel(self, evaluation_id: str) -> bool:
        changed = self.store.set_status(evaluation_id, "cancelled")
        with self._lock:
            held = self._held.get(evaluation_id)
            if held is not None:
                held[0].set()
                if held[1] is not None:  # still queued: never runs, its documents go now
                    del self._held[evaluation_id]
        return changed

    def _run(self, evaluation_id: str) -> None:
        with self._lock:
            held = self._held.get(evaluation_id)
            if held is None:
                return
            cancel, work, size = held
            self._held[evaluation_id] = (cancel, None, size)
        assert work is not None
        try:
            self._run_held(evaluation_id, cancel, work)
        except JobCancelled:
            pass
        except StateUnavailable as exc:
            log.warning("evaluation %s stopped: %s", evaluation_id, exc)
        except Exception as exc:  # it must end in a final state whatever happens
            log.exception("evaluation %s failed", evaluation_id)
            error = OCRError(f"internal error: {type(exc).__name__}")
            self.store.set_status(evaluation_id, "failed", error={**error.to_json(), "status": error.status})
        finally:
            with self._lock:
                self._held.pop(evaluation_id, None)

    def _run_held(self, evaluation_id: str, cancel: threading.Event, work: EvaluationWork) -> None:
        listener = _Listener(self.store, evaluation_id, cancel)
        if cancel.is_set() or not self.store.set_status(evaluation_id, "running"):
            return
        total = len(work.documents)
        for backend in work.backends:  # the totals, before the first result
            start = {"backend": backend, "done": 0, "total": total, "failed": 0}
            self.store.add_event(evaluation_id, "progress", start)
        for labelled, request in work.documents:
            for backend in work.backends:
                if listener.cancelled():
                    return
                scored, markdown, pages = self._one(labelled, request, backend, work.normalization, listener)
                self.store.add_result(evaluation_id, scored, markdown, pages)
        self.store.set_status(evaluation_id, "done")

    def _one(
        self,
        labelled: LabelledDocument,
        request: OCRRequest,
        backend: str,
        normalization: Normalization,
        listener: _Listener,
    ) -> tuple[Scored, str | None, list[Any] | None]:
        """One document through one backend, scored; a backend's error is this result's, not the run's."""
        started = time.perf_counter()
        try:
            outcome = self.pipeline.run(request, backend, listener)
            body = outcome.json()
        except OCRError as exc:
            body = error_body(exc, backend=backend, request_id=request.request_id)
            body["error"]["status"] = exc.status
            outcome = None
        seconds = time.perf_counter() - started
        pages = labelled.document.page_count if not request.is_pdf else len(request.pages)
        if outcome is None or outcome.status != 200 or not body.get("success"):
            error = dict(body.get("error") or {"code": "internal_error", "message": "no result"})
            if outcome is not None:
                error.setdefault("status", outcome.status)
            return Scored(labelled.name, labelled.kind, backend, None, pages, seconds, error), None, None
        cached = outcome.cached
        if cached:  # the time the backend took when it made this result, not the cache's
            seconds = float(body.get("processing_time") or seconds)
        markdown = str(body.get("markdown", ""))
        counts = score(labelled.reference, markdown, normalization)
        stored_pages = [
            {key: value for key, value in page.items() if key not in PAGE_DROPPED} for page in body.get("pages", [])
        ]
        return (
            Scored(labelled.name, labelled.kind, backend, counts, pages, seconds, cached=cached),
            markdown,
            stored_pages,
        )


def evaluation_runner() -> EvaluationRunner:
    return current_app.extensions["ocr_evaluations"]
