"""Per-request timings by stage, collected without threading a timer through every call.

The backend server opens a :class:`StageTimer` for each request; code anywhere below it records a
stage with ``with stage("render"): ...``. Outside a request, ``stage`` records nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[StageTimer | None] = ContextVar("stage_timer", default=None)


class StageTimer:
    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self._started = time.perf_counter()

    def add(self, name: str, seconds: float) -> None:
        self.stages[name] = self.stages.get(name, 0.0) + seconds

    def total(self) -> float:
        return time.perf_counter() - self._started

    @contextmanager
    def activate(self) -> Iterator[StageTimer]:
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)


@contextmanager
def stage(name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timer = _current.get()
        if timer is not None:
            timer.add(name, time.perf_counter() - started)


@contextmanager
def elapsed(report: Callable[[float], object]) -> Iterator[None]:
    """Calls ``report(seconds)`` when the block ends, however it ends (e.g. a histogram's ``observe``)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        report(time.perf_counter() - started)
