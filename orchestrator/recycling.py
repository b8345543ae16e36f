"""Recycling an orchestrator worker after so much work, never in the middle of a job.

gunicorn's own ``max_requests`` counts every request (probes, status reads, event streams) and gives
a worker's background jobs only the worker timeout once it is reached: a long PDF job died half way.
Here only work requests count, and a worker whose count is reached keeps serving until it runs no
job, then retires (gunicorn starts its successor). From that moment it refuses new jobs (503, retry
in a second: a request already inside the worker as it closes lands on another one), so none is cut
off. Standard library only at import time: the gunicorn master reads the hooks before any worker
exists (and before gevent patches anything in the workers).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any, Protocol

log = logging.getLogger(__name__)
#: Requests that start OCR work: they count toward recycling (and the rate limit applies to them).
WORK_METHODS = frozenset({"POST"})
IDLE_CHECK_S = 1.0


class Busy(Protocol):
    def pending(self) -> int: ...


_runners: list[Busy] = []
_lock = threading.Lock()
_state = {"work": 0, "retiring": False, "closing": False}


def watch(runner: Busy) -> None:
    """Jobs of ``runner`` (this process's job runner) hold the worker's retirement back."""
    with _lock:
        _runners.append(runner)


def busy() -> int:
    with _lock:
        return sum(runner.pending() for runner in _runners)


def limit_for(max_work_requests: int, rng: random.Random | None = None) -> int:
    """The worker's own limit: up to a tenth more, so that workers do not all retire at once."""
    if max_work_requests <= 0:
        return 0
    return max_work_requests + (rng or random).randint(0, max_work_requests // 10)


def count_work(worker: Any, method: str, limit: int) -> bool:
    """One finished request of ``worker``; True when this one starts its retirement."""
    if limit <= 0 or method not in WORK_METHODS:
        return False
    with _lock:
        _state["work"] += 1
        if _state["retiring"] or _state["work"] < limit:
            return False
        _state["retiring"] = True
    log.info("worker %s did %d work requests: it retires once its jobs are done", getattr(worker, "pid", "?"), limit)
    threading.Thread(target=_retire_when_idle, args=(worker,), name="recycling", daemon=True).start()
    return True


def closing() -> bool:
    """The worker is about to exit: a job started now would be cut off."""
    return bool(_state["closing"])


def _retire_when_idle(worker: Any) -> None:
    # "closing" goes up before the runners are asked: a submit checks it under its runner's lock,
    # so a job is either counted here or refused there, never started in a worker that exits.
    while True:
        _state["closing"] = True
        if not busy():
            break
        _state["closing"] = False
        time.sleep(IDLE_CHECK_S)
    worker.alive = False  # gunicorn's worker loop stops accepting, finishes its requests and exits
