"""How many threads a backend worker has, and how many of them OCR requests may hold.

Read by the backend's gunicorn settings (in the master, so nothing heavy is imported here) and by
its server, from the one setting ``BACKEND_THREADS``.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.config import ConfigError, env_int

#: ``BACKEND_THREADS`` when unset.
DEFAULT_THREADS = 16
#: Threads no OCR request may hold: ``/health``, ``/live``, ``/ready`` and ``/metrics`` always find
#: one. The orchestrator's circuit breaker takes a backend that does not answer its health poll for
#: hung; a backend whose every thread held a request waiting for the model would look the same.
PROBE_THREADS = 2


def backend_threads(env: Mapping[str, str] | None = None) -> int:
    return env_int("BACKEND_THREADS", DEFAULT_THREADS, env, minimum=1)


def work_bounds(threads: int, concurrency: int, max_queue: int) -> tuple[int, int]:
    """``(concurrency, max_queue)`` for the work gate, cut so that running plus waiting requests
    never hold more than ``threads - PROBE_THREADS`` threads: a busy backend still answers probes."""
    work_threads = threads - PROBE_THREADS
    if work_threads < 1:
        raise ConfigError(
            f"BACKEND_THREADS must be at least {PROBE_THREADS + 1}: {PROBE_THREADS} are kept for health probes"
        )
    concurrency = min(concurrency, work_threads)
    return concurrency, min(max_queue, work_threads - concurrency)
