"""Keeps the database bounded and says whether it can be written, in the background of every
orchestrator process (a thread; a greenlet under gevent), never on a request's path.

A round runs every ``MAINTENANCE_INTERVAL`` seconds, sooner after a burst of writes: reopen the file
if it was deleted or replaced; delete expired jobs and, oldest first, finished jobs over the job
quota; trim the result cache to its bound; give the freed pages back to the file system
(``incremental_vacuum``) and cut the WAL back (``wal_checkpoint(TRUNCATE)``), each in short steps so
no request waits long on the write lock; last, probe a write (``/ready`` and ``POST /jobs`` read the
answer). Every process runs the same rounds: each step is idempotent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from orchestrator.database import Database, between_steps
from orchestrator.evaluation_store import EvaluationStore
from orchestrator.job_store import JobStore
from orchestrator.result_cache import ResultCache
from shared.errors import StateUnavailable

log = logging.getLogger(__name__)
#: Free pages given back per step, and at most per round (4 KiB pages: 1 MiB, 256 MiB).
VACUUM_STEP_PAGES = 256
VACUUM_ROUND_PAGES = 65536


class Maintenance:
    def __init__(
        self,
        database: Database,
        jobs: JobStore,
        cache: ResultCache,
        *,
        interval: float,
        jobs_max_bytes: int,
        min_free_bytes: int,
        evaluations: EvaluationStore | None = None,
    ) -> None:
        self.database = database
        self.evaluations = evaluations
        self.jobs = jobs
        self.cache = cache
        self.interval = interval
        self.jobs_max_bytes = jobs_max_bytes
        self.min_free_bytes = min_free_bytes
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        steps: list[tuple[str, Callable[[], object]]] = [
            ("reopen", self.database.reopen_if_replaced),
            ("job quota", lambda: self.jobs.enforce_quota(self.jobs_max_bytes)),
            ("expired jobs", self.jobs.delete_expired),
            *self._evaluation_steps(),
            ("cache bound", self.cache.trim),
            ("vacuum", self._vacuum),
            ("checkpoint", self.database.checkpoint),
        ]
        for name, step in steps:
            between_steps()
            try:
                step()
            except StateUnavailable as exc:
                log.debug("maintenance step %s skipped: %s", name, exc)  # the probe below says it once
        self.database.probe(self.min_free_bytes)

    def _evaluation_steps(self) -> list[tuple[str, Callable[[], object]]]:
        evaluations = self.evaluations
        if evaluations is None:
            return []
        return [
            ("evaluation quota", lambda: evaluations.enforce_quota(self.jobs_max_bytes)),
            ("expired evaluations", evaluations.delete_expired),
        ]

    def _vacuum(self) -> None:
        for _ in range(VACUUM_ROUND_PAGES // VACUUM_STEP_PAGES):
            if self.database.vacuum_step(VACUUM_STEP_PAGES) == 0:
                return
            between_steps()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="db-maintenance", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.database.grown.set()

    def _loop(self) -> None:
        while True:
            self.database.grown.wait(self.interval)  # every interval, or sooner after a burst of writes
            self.database.grown.clear()
            if self._stop.is_set():
                return
            try:
                self.run_once()
            except Exception:  # the loop must outlive any one failure
                log.exception("database maintenance round failed")
