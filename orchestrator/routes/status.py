"""``GET /health``, ``GET /backends``: what the orchestrator knows of itself and each backend;
``GET /live``, ``GET /ready`` (probes) and ``GET /metrics`` (Prometheus)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, jsonify, request
from prometheus_client.core import GaugeMetricFamily, Metric

from orchestrator.disclosure import for_caller
from orchestrator.job_runner import job_runner
from orchestrator.services import Services, services
from shared.api_contract import utc_timestamp
from shared.errors import StateUnavailable
from shared.health import HealthState
from shared.metrics import render
from shared.probes import live_response, ready_response

JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")
#: What /health says of a backend the orchestrator is not configured with.
NOT_CONFIGURED = "not_configured"

bp = Blueprint("status", __name__)


@bp.get("/health")
def health() -> Response:
    statuses = {s.name: s for s in services().registry.snapshot()}

    def status_of(name: str) -> str:
        return statuses[name].status.value if name in statuses else NOT_CONFIGURED

    any_healthy = any(s.status is HealthState.HEALTHY for s in statuses.values())
    return jsonify(
        {
            "status": HealthState.HEALTHY.value if any_healthy else "degraded",
            "deepseek_status": status_of("deepseek-ocr"),
            "mineru_status": status_of("mineru"),
            "timestamp": utc_timestamp(),
            "backends": {name: for_caller(s.to_json()) for name, s in statuses.items()},
            # What a client can check before it uploads (the web client does).
            "limits": services().config.limits.published(),
        }
    )


@bp.get("/backends")
def backends() -> Response:
    """Cached health by default; ``?refresh=1`` asks every backend now."""
    svc = services()
    if request.args.get("refresh") in ("1", "true", "yes"):
        svc.registry.check_all()
    return jsonify(
        {
            "default": svc.config.default_backend,
            "backends": [for_caller(s.to_json()) for s in svc.registry.snapshot()],
        }
    )


@bp.get("/live")
def live() -> Response:
    return live_response()


@bp.get("/ready")
def ready() -> tuple[Response, int]:
    """Ready when the database can be written (the maintenance loop's last probe: nothing is
    written here), some backend is healthy and the job queue has room."""
    svc = services()
    problems = []
    if svc.database.problem is not None:
        problems.append(f"database: {svc.database.problem}")
    if not any(s.status is HealthState.HEALTHY for s in svc.registry.snapshot()):
        problems.append("no backend is healthy")
    runner = job_runner()
    if runner.pending() >= runner.max_pending:
        problems.append(f"overloaded: the job queue is full ({runner.max_pending})")
    return ready_response(problems)


def _scrape_figures(svc: Services) -> Iterator[Metric]:
    """Jobs by state (all workers share the database), backend health, cache size: read when scraped."""
    writable = GaugeMetricFamily("ocr_state_writable", "1 when the job and cache database can be written")
    writable.add_metric([], 0.0 if svc.database.problem else 1.0)
    yield writable
    on_disk = GaugeMetricFamily("ocr_state_bytes", "Bytes of the job and cache database and its WAL on disk")
    on_disk.add_metric([], float(svc.database.size_bytes()))
    yield on_disk
    try:
        counts: dict[str, int] | None = svc.jobs.counts_by_status()
        cache_bytes: int | None = svc.cache.stats()["bytes"]
    except StateUnavailable:
        counts = cache_bytes = None  # no database now: the figures that need it are left out
    if counts is not None:
        jobs = GaugeMetricFamily("ocr_jobs", "Jobs in the store, by state", labels=["state"])
        for job_state in JOB_STATES:
            jobs.add_metric([job_state], float(counts.get(job_state, 0)))
        yield jobs
    healthy = GaugeMetricFamily(
        "ocr_backend_healthy", "1 when the backend's last health check said healthy", labels=["backend"]
    )
    state = GaugeMetricFamily(
        "ocr_backend_state", "The backend's last known state (1 for the current one)", labels=["backend", "state"]
    )
    for status in svc.registry.snapshot():
        healthy.add_metric([status.name], 1.0 if status.status is HealthState.HEALTHY else 0.0)
        for known in HealthState:
            state.add_metric([status.name, known.value], 1.0 if status.status is known else 0.0)
    yield healthy
    yield state
    if cache_bytes is not None:
        cache = GaugeMetricFamily("ocr_cache_bytes", "Bytes of results in the cache")
        cache.add_metric([], float(cache_bytes))
        yield cache


@bp.get("/metrics")
def metrics() -> Response:
    svc = services()
    body, content_type = render([lambda: _scrape_figures(svc)])
    return Response(body, content_type=content_type)
