"""Prometheus metrics for every process of ours (prometheus-client).

Under gunicorn each worker is its own process: with ``PROMETHEUS_MULTIPROC_DIR`` set (the gunicorn
configs set it, see ``shared/gunicorn_hooks.py``) every worker writes its counters to files there and
a scrape, answered by any worker, sums them all. Gauges of live work use ``livesum`` (dead workers'
files are dropped by the ``child_exit`` hook). Figures that only make sense at scrape time (jobs by
state, backend health, model load time, GPU memory) come from collectors the app passes to
:func:`render`; they are read by the worker answering the scrape.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from shared.gunicorn_hooks import MULTIPROC_ENV

# OCR calls last from milliseconds (a CPU page) to minutes (a long PDF on a GPU).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

REQUESTS = Counter(
    "ocr_requests_total",
    "HTTP requests answered, by backend, endpoint and status",
    ["service", "backend", "endpoint", "status"],
)
ERRORS = Counter("ocr_errors_total", "Error answers, by error code", ["service", "backend", "code"])
LATENCY = Histogram(
    "ocr_request_duration_seconds",
    "Time to answer a request",
    ["service", "backend", "endpoint"],
    buckets=LATENCY_BUCKETS,
)
STAGES = Histogram(
    "ocr_stage_duration_seconds",
    "Time spent per stage of a request",
    ["service", "backend", "stage"],
    buckets=LATENCY_BUCKETS,
)
IN_FLIGHT = Gauge("ocr_in_flight", "Requests being worked on now", ["service", "backend"], multiprocess_mode="livesum")
QUEUED = Gauge("ocr_queued", "Requests waiting for a slot now", ["service", "backend"], multiprocess_mode="livesum")
REJECTED = Counter(
    "ocr_rejected_total", "Requests refused by backpressure (503) or rate limit (429)", ["service", "backend", "reason"]
)
CACHE_LOOKUPS = Counter("ocr_cache_lookups_total", "Result cache lookups", ["result"])
CACHE_FAILURES = Counter(
    "ocr_cache_failures_total",
    "Result cache reads and writes skipped because the database failed (disk full, locked, I/O error)",
    ["operation"],
)

#: Label used for a backend name a client sent that is not configured (keeps label sets bounded).
UNKNOWN = "unknown"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


class _Collected:
    """Adapts a function returning metric families to prometheus-client's collector protocol."""

    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterable[Metric]:
        return list(self._collect())


def render(extra: Iterable[Callable[[], Iterable[Metric]]] = ()) -> tuple[bytes, str]:
    """The exposition text: every worker's counters (summed) plus this worker's scrape-time figures."""
    if multiprocess_dir():
        shared = CollectorRegistry()
        MultiProcessCollector(shared)
    else:
        shared = REGISTRY
    local = CollectorRegistry(auto_describe=False)
    for collect in extra:
        local.register(_Collected(collect))
    return generate_latest(shared) + generate_latest(local), CONTENT_TYPE_LATEST


def metric_backend(name: str | None, known: Iterable[str]) -> str:
    """``name`` as a label value: a configured backend, ``multiple`` for a comparison, ``-`` for
    none, :data:`UNKNOWN` for anything else a client typed (never the raw value: unbounded labels)."""
    if not name or name == "-":
        return "-"
    known = set(known)
    if name in known:
        return name
    parts = name.split(",")
    return "multiple" if len(parts) > 1 and all(part in known for part in parts) else UNKNOWN


def observe_request(
    service: str, backend: str, endpoint: str, status: int, seconds: float, error_code: str | None
) -> None:
    REQUESTS.labels(service, backend, endpoint, str(status)).inc()
    LATENCY.labels(service, backend, endpoint).observe(seconds)
    if error_code:
        ERRORS.labels(service, backend, error_code).inc()
