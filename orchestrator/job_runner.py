"""Runs jobs in the background of this orchestrator process and records everything in the job store,
so that any worker can answer for them."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from flask import current_app

from orchestrator import recycling
from orchestrator.comparison import run_comparison
from orchestrator.job_store import JobStore, StoredDocument
from orchestrator.ocr_request import OCRRequest
from orchestrator.pipeline import JobCancelled, Pipeline
from shared.errors import OCRError, Overloaded, StateUnavailable
from shared.metrics import REJECTED

log = logging.getLogger(__name__)
CANCEL_CHECK_S = 0.2  # how often a running job looks in the store for a cancel made by another worker


class JobListener:
    """Records a job's pages and progress as they finish; tells the pipeline when it was cancelled."""

    def __init__(self, store: JobStore, job_id: str, cancel: threading.Event) -> None:
        self.store = store
        self.job_id = job_id
        self.cancel = cancel
        self._checked = 0.0

    def started(self, backend: str, pages_total: int) -> None:
        self.store.set_total(self.job_id, backend, pages_total)

    def page_done(self, backend: str, page: dict[str, Any]) -> None:
        self.store.add_page(self.job_id, backend, page)

    def cancelled(self) -> bool:
        now = time.monotonic()
        if not self.cancel.is_set() and now - self._checked >= CANCEL_CHECK_S:
            self._checked = now
            if self.store.status(self.job_id) == "cancelled":
                self.cancel.set()
        return self.cancel.is_set()


def _without_pages(result: dict[str, Any]) -> dict[str, Any]:
    """The stored result leaves out pages: they are in the store already, one row each."""
    if "results" in result:
        return {**result, "results": {name: _without_pages(body) for name, body in result["results"].items()}}
    return {key: value for key, value in result.items() if key != "pages"}


@dataclass
class _Held:
    """A job of this process: its cancel flag, its documents' bytes, and its request until it starts
    (the queue holds only the job id, so a job cancelled while it waits frees its document at once)."""

    cancel: threading.Event
    size: int
    compare: bool
    request: OCRRequest | None


def _request_bytes(request: OCRRequest) -> int:
    return len(request.document.data) + len(request.reference or "")


class JobRunner:
    def __init__(
        self,
        store: JobStore,
        pipeline: Pipeline,
        workers: int,
        *,
        max_pending: int = 256,
        max_pending_bytes: int = 512 * 2**20,
        retry_after: float = 5.0,
        keep_documents: bool = True,
    ) -> None:
        """``max_pending`` jobs, or ``max_pending_bytes`` of their documents, this process holds
        queued or running; one more is refused (503). A job is taken when none is held, whatever its size."""
        self.store = store
        self.pipeline = pipeline
        self.max_pending = max_pending
        self.max_pending_bytes = max_pending_bytes
        self.retry_after = retry_after
        #: Store each job's document with it (its page images are served from it).
        self.keep_documents = keep_documents
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()

    def submit(self, request: OCRRequest, *, compare: bool, tenant: str | None = None) -> str:
        size = _request_bytes(request)
        with self._lock:  # held while the job is created, so no two submits both take the last place
            if recycling.closing():
                raise Overloaded("this orchestrator worker is being recycled; retry", retry_after=1)
            if len(self._held) >= self.max_pending:
                REJECTED.labels("orchestrator", "-", "job_queue_full").inc()
                raise Overloaded(
                    f"the job queue is full ({self.max_pending} jobs queued or running); retry later",
                    retry_after=self.retry_after,
                )
            held_bytes = sum(held.size for held in self._held.values())
            if self._held and held_bytes + size > self.max_pending_bytes:
                REJECTED.labels("orchestrator", "-", "job_queue_bytes").inc()
                raise Overloaded(
                    f"the job queue holds {held_bytes // 2**20} MiB of documents (the bound is "
                    f"{self.max_pending_bytes // 2**20} MiB); retry later",
                    retry_after=self.retry_after,
                )
            job_id = self.store.create(
                "compare" if compare else "ocr",
                list(request.backends),
                request.document.upload_name,
                request.sent_options(),
                tenant,
                StoredDocument(request.document.fmt.name, request.document.data) if self.keep_documents else None,
            )
            self._held[job_id] = _Held(threading.Event(), size, compare, request)
        self._pool.submit(self._run, job_id)
        return job_id

    def pending(self) -> int:
        """Jobs of this process queued or running now."""
        with self._lock:
            return len(self._held)

    def cancel(self, job_id: str) -> bool:
        changed = self.store.set_status(job_id, "cancelled")
        with self._lock:
            held = self._held.get(job_id)
            if held is not None:
                held.cancel.set()
                if held.request is not None:  # still queued: it never runs, its place is free now
                    del self._held[job_id]
                    held.request = None
        return changed

    def _fail(self, job_id: str, error: OCRError, backend: str | None) -> None:
        self.store.set_status(job_id, "failed", error={**error.to_json(), "status": error.status, "backend": backend})

    def _run(self, job_id: str) -> None:
        with self._lock:
            held = self._held.get(job_id)
            if held is None:
                return  # cancelled while it waited
            request, held.request = held.request, None  # from now on only this call holds it
        assert request is not None
        try:
            self._run_held(job_id, held.cancel, request, held.compare)
        finally:
            with self._lock:
                self._held.pop(job_id, None)

    def _run_held(self, job_id: str, cancel: threading.Event, request: OCRRequest, compare: bool) -> None:
        listener = JobListener(self.store, job_id, cancel)
        backend = None if compare else request.backends[0]
        try:
            if cancel.is_set() or not self.store.set_status(job_id, "running"):
                return  # cancelled while it waited
            if compare:
                result = run_comparison(self.pipeline, request, listener)
                self.store.set_status(job_id, "succeeded", result=_without_pages(result))
                return
            assert backend is not None
            outcome = self.pipeline.run(request, backend, listener)
            body = outcome.json()
            if outcome.status == 200:
                self.store.set_status(job_id, "succeeded", result=_without_pages(body))
            else:
                self.store.set_status(
                    job_id, "failed", error={**body.get("error", {}), "status": outcome.status, "backend": backend}
                )
        except JobCancelled:
            pass  # the store says cancelled already
        except StateUnavailable as exc:  # before OCRError: recording the failure would fail too
            log.warning("job %s stopped: %s", job_id, exc)
        except OCRError as exc:
            self._fail(job_id, exc, backend)
        except Exception as exc:  # a job must end in a final state whatever happens
            log.exception("job %s failed", job_id)
            self._fail(job_id, OCRError(f"internal error: {type(exc).__name__}"), backend)


def job_runner() -> JobRunner:
    return current_app.extensions["ocr_jobs"]


def pipeline() -> Pipeline:
    return current_app.extensions["ocr_pipeline"]
