"""What each route of the orchestrator answers, for its OpenAPI description (orchestrator/openapi.py):
one entry per Flask endpoint, the one place this is written. The shapes themselves are the contract's
(shared/contract.schema.json), the error codes the registry's (shared/errors.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from orchestrator.access import OPEN_ENDPOINTS, STATE_CHANGING
from orchestrator.recycling import WORK_METHODS
from orchestrator.routes.ocr import CACHE_HEADER
from shared.http_common import REQUEST_ID_HEADER

JSON = "application/json"
SSE = "text/event-stream"

Body = Literal["ocr", "compare", "evaluation", "preview"]


@dataclass(frozen=True)
class Answer:
    """A documented success: its status, media type and schema (a contract ``$defs`` name, or inline)."""

    status: int
    description: str
    media_type: str = JSON
    schema: str | dict[str, Any] | None = None
    #: Other media types it may come as, with their schemas.
    also: tuple[tuple[str, dict[str, Any]], ...] = ()
    #: Response headers it always carries (names of :data:`HEADERS`).
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    answers: tuple[Answer, ...]
    #: The error statuses this operation answers with besides the ones every operation may (401, 500, ...).
    errors: tuple[int, ...] = ()
    body: Body | None = None
    description: str = ""
    parameters: tuple[dict[str, Any], ...] = ()


#: Errors any operation may answer: no or a wrong key, a bug. Work (POST) may also be rate limited and
#: state changes from another site's page refused (see :func:`_error_statuses`).
ALWAYS = (401, 500)
OCR_ERRORS = (400, 413, 415, 422, 502, 503, 504)
JOB_ERRORS = (400, 413, 415, 422, 503)
OCR_OK = Answer(
    200, "The backend's result (its errors come with their own status).", "ocr_result", headers=(CACHE_HEADER,)
)
JOB_ACCEPTED = Answer(202, "Queued; `Location` is the job's status URL.", schema="job_accepted", headers=("Location",))
JOB_STATUS = Answer(200, "The job: status, progress, the pages finished so far, the result when done.", "job_status")
HTML = Answer(200, "The page.", "text/html", {"type": "string"})
PNG, JPEG, WEBP = "image/png", "image/jpeg", "image/webp"
BINARY: dict[str, Any] = {"type": "string", "format": "binary"}

EVENTS_DESCRIPTION = """Server-sent events (`text/event-stream`), in order, from the job's start or after the
`Last-Event-ID` header; each has an `id` (the sequence number), an `event` type and JSON `data`:

* `status` — the job's new status ([job_event_status](#/components/schemas/job_event_status));
* `progress` — one backend's pages done of its total ([job_event_progress](#/components/schemas/job_event_progress));
* `page` — one backend's finished page ([job_event_page](#/components/schemas/job_event_page));
* `end` — the last event, no id: the final status ([job_event_end](#/components/schemas/job_event_end)).

A comment line (`: keep-alive`) comes every 15 s of silence; the stream closes after `end`. The
response's schema ([job_event](#/components/schemas/job_event)) is that of one event: its `event`
names the kind and its `data` is JSON of that kind's shape."""

OPTIONS_DESCRIPTION = """Each backend's `options` lists the options it takes besides `dpi`, `page_range` and
`boxes_image`, as it publishes them in its own `/health` ([option_field](#/components/schemas/option_field)):
name, type, `enum` (its choices), default, description and bounds. An OCR, comparison or job request is
checked against them before any backend is called: an option a backend does not publish (`prompt` and
`mode` included), a value outside `enum`, a non-integer for an integer or one outside its bounds is
400 `invalid_option` naming the option and the backend. A comparison sends each backend only the
options it publishes; an option none of them publishes is refused. `null`: not known yet (the backend
has not answered a health check); the request is then forwarded and the backend checks it itself."""

#: The contract's event shapes are named ``<stream>_<kind>`` (``job_event_page``); the kinds are read from there.
EVENT_STREAMS = ("job_event", "evaluation_event")

EVALUATION_DESCRIPTION = """A labelled set: one zip `archive`, several `file` parts, or `sample=true` (the bundled
sample set, GET /evaluations/sample). Each document `name.ext` (an image or a PDF) has its ground truth
`name.txt` or `name.md` (UTF-8) beside it; an optional `labels.csv` (`name,kind`) gives each a kind. Every
document goes through every backend in `backends` (default: the default backend), one after another, with the
usual options (checked against each backend's published options); each result is scored against its truth
(CER, WER, order-free word F1, seconds per page) after the `normalization` steps. Refused with 400 (an unsafe
zip name, a bad option or backend), 413 (too many documents or bytes, a zip bomb), 415 (a file that is no
document) or 422 (a document without its truth)."""

EVALUATION_EVENTS_DESCRIPTION = """Server-sent events, as for jobs (`Last-Event-ID`, keep-alive comments):

* `status` — the evaluation's new status ([evaluation_event_status](#/components/schemas/evaluation_event_status));
* `result` — one document × backend, scored ([evaluation_event_result](#/components/schemas/evaluation_event_result));
* `progress` — that backend's documents done, failed and total
  ([evaluation_event_progress](#/components/schemas/evaluation_event_progress));
* `end` — the last event, no id: the final status
  ([evaluation_event_end](#/components/schemas/evaluation_event_end))."""

LAST_EVENT_ID = {
    "name": "Last-Event-ID",
    "in": "header",
    "required": False,
    "description": "Resume: only the events after this id (what a browser's EventSource sends).",
    "schema": {"type": "string"},
}
EVALUATION = Answer(200, "The evaluation: status, progress, results and leaderboard.", schema="evaluation")

#: What every route answers, by its Flask endpoint name.
OPERATIONS: dict[str, Operation] = {
    "ocr.ocr_any": Operation("OCR of an image or a PDF with one backend", "OCR", (OCR_OK,), OCR_ERRORS, "ocr"),
    "ocr.ocr_image": Operation("OCR of an image only", "OCR", (OCR_OK,), OCR_ERRORS, "ocr"),
    "ocr.ocr_pdf": Operation("OCR of a PDF only", "OCR", (OCR_OK,), OCR_ERRORS, "ocr"),
    "ocr.compare": Operation(
        "The same document through several backends, side by side",
        "OCR",
        (
            Answer(
                200, "Each backend's result or error, labelled; agreement and reference scores.", "comparison_result"
            ),
        ),
        OCR_ERRORS,
        "compare",
    ),
    "jobs.create_job": Operation(
        "Submit an OCR job (the fields of POST /ocr)", "Jobs", (JOB_ACCEPTED,), JOB_ERRORS, "ocr"
    ),
    "jobs.create_compare_job": Operation(
        "Submit a comparison job (the fields of POST /ocr/compare)", "Jobs", (JOB_ACCEPTED,), JOB_ERRORS, "compare"
    ),
    "jobs.job_status": Operation("A job's status, progress, pages and result", "Jobs", (JOB_STATUS,), (404, 503)),
    "jobs.list_jobs": Operation(
        "The newest jobs (with API keys, the key's own), newest first",
        "Jobs",
        (Answer(200, "The jobs, without their pages or results.", schema="job_list"),),
        (400, 503),
        parameters=(
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": "How many jobs, at most (default 20).",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
            },
        ),
    ),
    "jobs.page_image": Operation(
        "A page of the job's document, clean (as uploaded, or a PDF page rendered)",
        "Jobs",
        (
            Answer(
                200,
                "The page: an image as uploaded (PNG where a browser would not show it upright), a PDF page "
                "as PNG at `dpi`, by default at the dpi its result was read at (its width is the result "
                "page's `width`).",
                PNG,
                BINARY,
                also=((JPEG, BINARY), (WEBP, BINARY)),
            ),
        ),
        (400, 404, 413, 503),
        description="`page` is the page's number in the document (1-based): 400 when it is not a number, "
        "404 `page_not_found` when the job has no such page (outside the document or its `page_range`) or "
        "kept no document (`JOB_KEEP_DOCUMENTS=false`).",
        parameters=(
            {
                "name": "dpi",
                "in": "query",
                "required": False,
                "description": "Render a PDF page at this resolution instead (an image is as uploaded).",
                "schema": {"type": "integer", "minimum": 36, "maximum": 600},
            },
        ),
    ),
    "pdf.preview": Operation(
        "Render a PDF's pages (a preview before running)",
        "OCR",
        (Answer(200, "The pages, each a PNG data URI, and the document's page count.", schema="pdf_preview"),),
        (400, 413, 415, 422),
        "preview",
        description="The same upload limits and errors as `POST /ocr/pdf` (413 too large, 415 not a PDF, 422 "
        "broken or encrypted); at most 8 pages, all of them together within the pixel limit of one image.",
    ),
    "jobs.cancel_job": Operation(
        "Cancel a job (a final job is left as it is)",
        "Jobs",
        (Answer(200, "The job after the cancel.", schema="job_status"),),
        (404, 503),
    ),
    "jobs.job_events": Operation(
        "A job's events as they happen (server-sent events)",
        "Jobs",
        (Answer(200, "The event stream; the schema is that of each event.", SSE, "job_event"),),
        (404, 503),
        description=EVENTS_DESCRIPTION,
        parameters=(LAST_EVENT_ID,),
    ),
    "evaluations.create_evaluation": Operation(
        "Evaluate backends on a labelled set (documents with their ground truth)",
        "Evaluations",
        (Answer(202, "Queued; `Location` is its status URL.", schema="evaluation_accepted", headers=("Location",)),),
        JOB_ERRORS,
        "evaluation",
        description=EVALUATION_DESCRIPTION,
    ),
    "evaluations.list_evaluations": Operation(
        "The caller's evaluations, newest first",
        "Evaluations",
        (Answer(200, "Each evaluation's summary and progress.", schema="evaluation_list"),),
        (503,),
    ),
    "evaluations.sample_set": Operation(
        "The bundled sample labelled set, as a zip",
        "Evaluations",
        (Answer(200, "A zip of pages, their ground truth and labels.csv.", "application/zip", {"type": "string"}),),
    ),
    "evaluations.evaluation_status": Operation(
        "An evaluation: status, progress, results, leaderboard", "Evaluations", (EVALUATION,), (404, 503)
    ),
    "evaluations.cancel_evaluation": Operation(
        "Cancel an evaluation (a final one is left as it is; finished results stay)",
        "Evaluations",
        (EVALUATION,),
        (404, 503),
    ),
    "evaluations.evaluation_events": Operation(
        "An evaluation's events as they happen (server-sent events)",
        "Evaluations",
        (Answer(200, "The event stream; the schema is that of each event.", SSE, "evaluation_event"),),
        (404, 503),
        description=EVALUATION_EVENTS_DESCRIPTION,
        parameters=(LAST_EVENT_ID,),
    ),
    "evaluations.export_evaluation": Operation(
        "An evaluation's results as CSV (a row per document × backend) or JSON (the whole evaluation)",
        "Evaluations",
        (
            Answer(
                200,
                "The export, as an attachment.",
                "text/csv",
                {"type": "string"},
                also=((JSON, {"$ref": "#/components/schemas/evaluation"}),),
            ),
        ),
        (400, 404, 503),
        parameters=(
            {
                "name": "format",
                "in": "query",
                "required": False,
                "description": "`csv` or `json` (default).",
                "schema": {"enum": ["csv", "json"]},
            },
        ),
    ),
    "evaluations.evaluation_document": Operation(
        "One document of an evaluation: its ground truth and each backend's result",
        "Evaluations",
        (Answer(200, "The reference and each backend's markdown, pages and scores.", schema="evaluation_document"),),
        (404, 503),
    ),
    "status.health": Operation(
        "The orchestrator's and every backend's health",
        "Status",
        (Answer(200, "Health; each backend's `options` as in GET /backends.", schema="orchestrator_health"),),
    ),
    "status.backends": Operation(
        "The backends, their models, health and the options each one publishes",
        "Status",
        (Answer(200, "The backends and the default one.", schema="backends_list"),),
        description=OPTIONS_DESCRIPTION,
        parameters=(
            {
                "name": "refresh",
                "in": "query",
                "required": False,
                "description": "`1`, `true` or `yes`: ask every backend now instead of the last health check.",
                "schema": {"type": "string"},
            },
        ),
    ),
    "status.live": Operation("Liveness probe", "Status", (Answer(200, "The process answers.", schema="liveness"),)),
    "status.ready": Operation(
        "Readiness probe",
        "Status",
        (
            Answer(200, "Ready.", schema="readiness"),
            Answer(503, "Not ready: the reasons are listed.", schema="readiness"),
        ),
    ),
    "status.metrics": Operation(
        "Prometheus metrics", "Status", (Answer(200, "The text exposition format.", "text/plain", {"type": "string"}),)
    ),
    "web.index": Operation(
        "The web client (or, when it is not built, a JSON index of the API)",
        "Web",
        (
            Answer(
                200,
                "The web client's page; without a built web client, a JSON index of the endpoints.",
                "text/html",
                {"type": "string"},
                also=((JSON, {"type": "object"}),),
            ),
        ),
    ),
    "web.assets": Operation(
        "The web client's built files (names carry a content hash)",
        "Web",
        (Answer(200, "The file.", "*/*", {}),),
        (404,),
    ),
    "web.favicon": Operation(
        "The web client's icon (browsers ask for it)", "Web", (Answer(200, "The icon.", "*/*", {}),), (404,)
    ),
    "api_docs.openapi": Operation(
        "This description of the API (OpenAPI 3.1)",
        "Web",
        (Answer(200, "The OpenAPI document.", schema={"type": "object"}),),
    ),
    "web.docs": Operation("The interactive API documentation, built with the web client", "Web", (HTML,), (404,)),
}


#: The response headers the API documents (``X-Request-ID`` is on every response).
HEADERS: dict[str, dict[str, Any]] = {
    CACHE_HEADER: {
        "description": "`hit` (answered from the result cache), `miss`, or `bypass` (`cache=false`).",
        "required": True,
        "schema": {"enum": ["hit", "miss", "bypass"]},
    },
    "Location": {"description": "The job's status URL.", "required": True, "schema": {"type": "string"}},
    "Retry-After": {
        "description": "Seconds to wait before retrying, when the service knows.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    REQUEST_ID_HEADER: {
        "description": "This request's id (the client's own when it sent a valid one); in the service's logs.",
        "schema": {"type": "string"},
    },
}


def error_statuses(method: str, endpoint: str, operation: Operation) -> list[int]:
    statuses = set(operation.errors) | set(ALWAYS)
    if endpoint in OPEN_ENDPOINTS:
        statuses.discard(401)
    if method in STATE_CHANGING:
        statuses.add(403)
    if method in WORK_METHODS:
        statuses.add(429)
    return sorted(statuses - {answer.status for answer in operation.answers})
