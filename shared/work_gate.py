"""Bounds how many OCR calls run at once in a process, bounds how many may wait, and counts both
(for ``/health``, ``/ready`` and the ``ocr_in_flight``/``ocr_queued`` gauges)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from shared.errors import Overloaded, RequestAbandoned
from shared.metrics import IN_FLIGHT, QUEUED, REJECTED


class WorkGate:
    def __init__(
        self,
        max_concurrency: int,
        *,
        max_queue: int | None = None,
        name: str = "-",
        service: str = "backend",
        retry_after: float = 5.0,
    ) -> None:
        """``max_queue``: how many may wait for a slot (``None``: no bound); one more is refused with
        503 ``overloaded`` and ``Retry-After: retry_after``."""
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.max_concurrency = max_concurrency
        self.max_queue = max_queue
        self.name = name
        self.retry_after = retry_after
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._queued = 0
        self._in_flight_gauge = IN_FLIGHT.labels(service, name)
        self._queued_gauge = QUEUED.labels(service, name)
        self._rejected = REJECTED.labels(service, name, "queue_full")
        self._abandoned = REJECTED.labels(service, name, "abandoned")

    @property
    def capacity(self) -> int | None:
        """Requests it holds at once, running and waiting (``None``: no bound)."""
        return None if self.max_queue is None else self.max_concurrency + self.max_queue

    def full(self) -> bool:
        """True when one more request would be refused."""
        with self._lock:
            return self._full_locked()

    def _full_locked(self) -> bool:
        return self.max_queue is not None and self._in_flight + self._queued >= self.max_concurrency + self.max_queue

    @contextmanager
    def slot(self, abandoned: Callable[[], str | None] | None = None) -> Iterator[None]:
        """One place to work, after waiting for it. ``abandoned`` is asked once the place is ours:
        a reason (the caller left while this waited) gives the place back unused and raises
        :class:`RequestAbandoned`, so a backend that was hung or busy does not work off a backlog
        no one will read."""
        with self._lock:
            if self._full_locked():
                self._rejected.inc()
                raise Overloaded(
                    f"{self.name} is busy: {self._in_flight} running and {self._queued} waiting "
                    f"(bound {self.max_queue}); retry later",
                    retry_after=self.retry_after,
                )
            self._queued += 1
            self._queued_gauge.inc()
        try:
            self._slots.acquire()
        except BaseException:
            with self._lock:
                self._queued -= 1
                self._queued_gauge.dec()
            raise
        reason = abandoned() if abandoned is not None else None
        # From waiting to running (or gone) in one step: a request counted as neither for a moment
        # would let a newcomer past the bound.
        with self._lock:
            self._queued -= 1
            self._queued_gauge.dec()
            if reason is None:
                self._in_flight += 1
                self._in_flight_gauge.inc()
        if reason is not None:
            self._slots.release()
            self._abandoned.inc()
            raise RequestAbandoned(f"{self.name} dropped the request before starting it: {reason}")
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                self._in_flight_gauge.dec()
            self._slots.release()

    def counts(self) -> tuple[int, int]:
        """``(in_flight, queued)`` now."""
        with self._lock:
            return self._in_flight, self._queued
