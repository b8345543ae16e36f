"""Asynchronous jobs: ``POST /jobs`` (one backend), ``POST /jobs/compare``, ``GET /jobs/<id>``,
``GET /jobs/<id>/events`` (server-sent events) and ``DELETE /jobs/<id>``.

With API keys configured a job is its key's: to any other key it is 404 ``job_not_found``, the
answer for an id that does not exist (nothing tells that it exists)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, url_for

from orchestrator.access import request_tenant
from orchestrator.job_runner import job_runner
from orchestrator.job_store import FINAL, Job
from orchestrator.routes.event_stream import event_stream
from orchestrator.routes.inputs import read_ocr_request
from orchestrator.services import services
from shared.api_contract import utc_timestamp
from shared.errors import JobNotFound

bp = Blueprint("jobs", __name__)


def _accepted(job_id: str) -> tuple[Response, int, dict[str, str]]:
    status_url = url_for("jobs.job_status", job_id=job_id)
    body = {
        "success": True,
        "job_id": job_id,
        "status": "queued",
        "status_url": status_url,
        "events_url": url_for("jobs.job_events", job_id=job_id),
        "request_id": g.request_id,
    }
    return jsonify(body), 202, {"Location": status_url}


def _submit(compare: bool) -> tuple[Response, int, dict[str, str]]:
    svc = services()
    svc.database.require_writable()  # before the upload is read: no job can be kept now
    job_id = job_runner().submit(read_ocr_request(svc, compare=compare), compare=compare, tenant=request_tenant())
    return _accepted(job_id)


@bp.post("/jobs")
def create_job() -> tuple[Response, int, dict[str, str]]:
    """The same fields as ``POST /ocr``; 202 with the job's status and events URLs."""
    return _submit(compare=False)


@bp.post("/jobs/compare")
def create_compare_job() -> tuple[Response, int, dict[str, str]]:
    """The same fields as ``POST /ocr/compare``."""
    return _submit(compare=True)


def _job(job_id: str) -> Job:
    job = services().jobs.get(job_id)
    if job is None or job.tenant != request_tenant():
        raise JobNotFound(f"no job {job_id!r} (unknown, or its result expired)")
    return job


def job_json(job: Job) -> dict[str, Any]:
    pages = services().jobs.pages(job.id)
    totals = [p["pages_total"] for p in job.progress.values()]
    body: dict[str, Any] = {
        "success": True,
        "job_id": job.id,
        "kind": job.kind,
        "status": job.status,
        "backends": job.backends,
        "image_name": job.filename,
        "options": job.options,
        "created_at": utc_timestamp(job.created_at),
        "updated_at": utc_timestamp(job.updated_at),
        "expires_at": utc_timestamp(job.expires_at) if job.expires_at else None,
        "progress": {
            "pages_done": sum(int(p["pages_done"] or 0) for p in job.progress.values()),
            "pages_total": None if None in totals else sum(int(t or 0) for t in totals),
            "backends": job.progress,
        },
        "pages": pages,
        "status_url": url_for("jobs.job_status", job_id=job.id),
        "events_url": url_for("jobs.job_events", job_id=job.id),
    }
    if job.result is not None:
        body["result"] = job.result  # without pages: they are in "pages" above, once
    if job.error is not None:
        body["error"] = job.error
    return body


@bp.get("/jobs/<job_id>")
def job_status(job_id: str) -> Response:
    return jsonify(job_json(_job(job_id)))


@bp.delete("/jobs/<job_id>")
def cancel_job(job_id: str) -> Response:
    job = _job(job_id)
    if not job.final:
        job_runner().cancel(job_id)
    return jsonify(job_json(_job(job_id)))


@bp.get("/jobs/<job_id>/events")
def job_events(job_id: str) -> Response:
    """Server-sent events, in order: ``status``, ``progress`` and ``page`` (each finished page), from
    the start or after ``Last-Event-ID``; the stream ends after the job's final status."""
    _job(job_id)
    store = services().jobs
    return event_stream(lambda seq: store.events_after(job_id, seq), lambda: store.status(job_id), FINAL)
