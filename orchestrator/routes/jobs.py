"""Asynchronous jobs: ``POST /jobs`` (one backend), ``POST /jobs/compare``, ``GET /jobs`` (the
newest ones), ``GET /jobs/<id>``, ``GET /jobs/<id>/events`` (server-sent events),
``GET /jobs/<id>/pages/<n>/image`` (the page as uploaded or rendered) and ``DELETE /jobs/<id>``.

With API keys configured a job is its key's: to any other key it is 404 ``job_not_found``, the
answer for an id that does not exist (nothing tells that it exists), and a listing shows only the
key's own jobs. Without keys every job is everyone's, as everything else is."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request, url_for

from orchestrator.access import request_tenant
from orchestrator.job_runner import job_runner
from orchestrator.job_store import FINAL, Job, JobSummary
from orchestrator.page_images import PageImage, image_page, pdf_page
from orchestrator.routes.event_stream import event_stream
from orchestrator.routes.inputs import read_ocr_request
from orchestrator.services import services
from shared.api_contract import utc_timestamp
from shared.errors import InvalidOption, JobNotFound, PageNotFound
from shared.pdf import DEFAULT_DPI, check_dpi, inspect_pdf, parse_page_range
from shared.uploads import ACCEPTED_FORMATS, detect_format

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


#: ``GET /jobs``: jobs listed when ``limit`` is not given, and the most that may be asked for.
LIST_DEFAULT, LIST_MAX = 20, 100


def _positive_int(name: str, value: str, maximum: int | None = None) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InvalidOption(f"{name} must be a whole number, got {value!r}") from None
    if number < 1 or (maximum is not None and number > maximum):
        bound = f"between 1 and {maximum}" if maximum is not None else "1 or more"
        raise InvalidOption(f"{name} must be {bound}, got {number}")
    return number


def summary_json(job: JobSummary) -> dict[str, Any]:
    kind = None
    if job.document_format in ACCEPTED_FORMATS:
        kind = "pdf" if job.document_format == "pdf" else "image"
    return {
        "job_id": job.id,
        "kind": job.kind,
        "status": job.status,
        "backends": job.backends,
        "image_name": job.filename,
        "document_type": kind,
        "created_at": utc_timestamp(job.created_at),
        "updated_at": utc_timestamp(job.updated_at),
        "expires_at": utc_timestamp(job.expires_at) if job.expires_at else None,
        "progress": {"pages_done": job.pages_done, "pages_total": job.pages_total},
        "status_url": url_for("jobs.job_status", job_id=job.id),
    }


@bp.get("/jobs")
def list_jobs() -> Response:
    """The caller's newest jobs (with keys, its key's; without, every job), newest first."""
    limit = _positive_int("limit", request.args.get("limit", str(LIST_DEFAULT)), LIST_MAX)
    jobs = services().jobs.recent(request_tenant(), limit)
    return jsonify({"success": True, "jobs": [summary_json(job) for job in jobs], "limit": limit})


def _page_image(job: Job, number: int, dpi: int | None) -> PageImage:
    store = services().jobs
    document = store.document(job.id)
    if document is None:
        raise PageNotFound(f"job {job.id} kept no document (JOB_KEEP_DOCUMENTS=false, or made before it was kept)")
    limits = services().config.limits
    fmt = detect_format(document.data)
    if fmt.kind == "image":
        if number != 1:
            raise PageNotFound(f"job {job.id} is of an image: its only page is 1")
        return image_page(document.data, fmt, limits)
    count = inspect_pdf(document.data, limits).page_count
    selected = [index + 1 for index in parse_page_range(job.options.get("page_range"), count)]
    if number not in selected:
        consecutive = selected == list(range(selected[0], selected[-1] + 1))
        shown = f"{selected[0]}–{selected[-1]}" if consecutive else ", ".join(map(str, selected))
        raise PageNotFound(f"page {number} is not among job {job.id}'s pages ({shown})")
    default = int(job.options.get("dpi") or DEFAULT_DPI)
    return pdf_page(
        document.data, number - 1, limits, dpi=dpi, width_px=store.page_width(job.id, number), default=default
    )


@bp.get("/jobs/<job_id>/pages/<page>/image")
def page_image(job_id: str, page: str) -> Response:
    """Page ``page`` (1-based) of the job's document, clean: an image as uploaded (PNG where a browser
    would not show it as the backends saw it), a PDF page rendered as PNG at ``dpi``, by default at
    the dpi its result was read at (its width in pixels is the result's ``width``)."""
    job = _job(job_id)
    number = _positive_int("page", page)
    dpi_text = request.args.get("dpi")
    dpi = None
    if dpi_text is not None:
        dpi = check_dpi(_positive_int("dpi", dpi_text))
    image = _page_image(job, number, dpi)
    response = Response(image.data, content_type=image.mime)
    # A job's document never changes: the browser may keep the image (it is this key's only).
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


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
