"""Bounds how many OCR calls run at once in a process and counts those running and waiting."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class WorkGate:
    def __init__(self, max_concurrency: int) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.max_concurrency = max_concurrency
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._queued = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._lock:
            self._queued += 1
        try:
            self._slots.acquire()
        finally:
            with self._lock:
                self._queued -= 1
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
            self._slots.release()

    def counts(self) -> tuple[int, int]:
        """``(in_flight, queued)`` now."""
        with self._lock:
            return self._in_flight, self._queued
