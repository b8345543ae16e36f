"""One bound on the pages inside the engine, across every request.

Each admitted request may hand several pages to the engine; without a global bound the pages in the
engine grow with requests × pages per request (32 × 32 at the defaults), each preprocessed by vLLM
on submission (tens of MB of tensors). Here a page takes a slot before it is rendered and submitted,
and gives it back when the engine is done with it (finished, failed or aborted); the others wait in
arrival order. A page's time limit starts when it is submitted, so time spent waiting for a slot is
not counted against it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class StartedPage(Generic[T]):
    """A page the engine has: its future and when the engine got it (``time.monotonic``)."""

    future: Future[T]
    started: float = field(default_factory=time.monotonic)

    def remaining(self, timeout: float) -> float:
        return max(0.0, self.started + timeout - time.monotonic())


class PageSlots:
    """A first-come first-served counting semaphore with visible counts."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("at least one page must fit in the engine")
        self.limit = limit
        self._in_engine = 0
        self._waiting: deque[object] = deque()
        self._cond = threading.Condition()

    def acquire(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a slot, behind every page that asked earlier."""
        ticket = object()
        deadline = time.monotonic() + timeout
        with self._cond:
            self._waiting.append(ticket)
            try:
                while self._waiting[0] is not ticket or self._in_engine >= self.limit:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cond.wait(remaining)
                self._in_engine += 1
                return True
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()

    def release(self) -> None:
        with self._cond:
            self._in_engine -= 1
            self._cond.notify_all()

    def start(self, submit: Callable[[], Future[T]]) -> StartedPage[T]:
        """Submit with a slot already held; the slot is given back when the engine is done with it."""
        try:
            future = submit()
        except BaseException:
            self.release()
            raise
        future.add_done_callback(lambda _: self.release())
        return StartedPage(future)

    def counts(self) -> tuple[int, int]:
        """(pages in the engine, pages waiting for a slot)."""
        with self._cond:
            return self._in_engine, len(self._waiting)
