"""The orchestrator's OpenAPI 3.1 description, built when asked from what the code already declares:
the routes registered on the app (``app.url_map``), the form fields (shared/options.py and
orchestrator/ocr_request.py), the configured backends, the error registry (shared/errors.py) and the
contract's JSON Schema (shared/contract.schema.json, whose ``$defs`` become the components as they
are). apispec assembles the document; what each operation answers is the table below, the one place
it is written, and a route without an entry there fails the build (and the tests).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Literal

from apispec import APISpec
from flask import Flask

from orchestrator.access import API_KEY_HEADER, OPEN_ENDPOINTS, STATE_CHANGING
from orchestrator.config import OrchestratorConfig
from orchestrator.ocr_request import BACKEND, BACKENDS, ORCHESTRATOR_FORM
from orchestrator.recycling import WORK_METHODS
from orchestrator.routes.ocr import CACHE_HEADER
from shared.api_contract import load_schema
from shared.errors import ERROR_CODES
from shared.http_common import REQUEST_ID_HEADER
from shared.options import COMMON_FIELDS, FormField

#: Methods Flask adds to every route by itself.
IMPLICIT_METHODS = frozenset({"HEAD", "OPTIONS"})
JSON = "application/json"
SSE = "text/event-stream"
CONTRACT_REF = re.compile(r"^#/\$defs/")
FLASK_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

Body = Literal["ocr", "compare"]


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

EVENTS_DESCRIPTION = """Server-sent events (`text/event-stream`), in order, from the job's start or after the
`Last-Event-ID` header; each has an `id` (the sequence number), an `event` type and JSON `data`:

* `status` — the job's new status ([job_event_status](#/components/schemas/job_event_status));
* `progress` — one backend's pages done of its total ([job_event_progress](#/components/schemas/job_event_progress));
* `page` — one backend's finished page ([job_event_page](#/components/schemas/job_event_page));
* `end` — the last event, no id: the final status ([job_event_end](#/components/schemas/job_event_end)).

A comment line (`: keep-alive`) comes every 15 s of silence; the stream closes after `end`. The
response's schema ([job_event](#/components/schemas/job_event)) is that of one event: its `event`
names the kind and its `data` is JSON of that kind's shape."""

#: The contract's event shapes are named ``job_event_<kind>``; the kinds are read from there.
EVENT_PREFIX = "job_event_"

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
        parameters=(
            {
                "name": "Last-Event-ID",
                "in": "header",
                "required": False,
                "description": "Resume: only the events after this id (what a browser's EventSource sends).",
                "schema": {"type": "string"},
            },
        ),
    ),
    "status.health": Operation(
        "The orchestrator's and every backend's health",
        "Status",
        (Answer(200, "Health.", schema="orchestrator_health"),),
    ),
    "status.backends": Operation(
        "The backends, their models and health",
        "Status",
        (Answer(200, "The backends and the default one.", schema="backends_list"),),
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
    "api_docs.openapi": Operation(
        "This description of the API (OpenAPI 3.1)",
        "Web",
        (Answer(200, "The OpenAPI document.", schema={"type": "object"}),),
    ),
    "web.docs": Operation("The interactive API documentation, built with the web client", "Web", (HTML,), (404,)),
}


def _error_statuses(method: str, endpoint: str, operation: Operation) -> list[int]:
    statuses = set(operation.errors) | set(ALWAYS)
    if endpoint in OPEN_ENDPOINTS:
        statuses.discard(401)
    if method in STATE_CHANGING:
        statuses.add(403)
    if method in WORK_METHODS:
        statuses.add(429)
    return sorted(statuses - {answer.status for answer in operation.answers})


def contract_components() -> dict[str, Any]:
    """The contract's ``$defs`` as OpenAPI components, their references pointed at the components."""

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: CONTRACT_REF.sub("#/components/schemas/", value) if key == "$ref" else rewrite(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    return rewrite(load_schema()["$defs"])


def event_schema(kinds: Iterable[str]) -> dict[str, Any]:
    """One server-sent event as a JSON object (``event``, ``id``, ``data``), the way OpenAPI 3.2
    describes a stream item and schemathesis checks it: ``data`` is JSON text of the kind's shape."""

    def one(kind: str) -> dict[str, Any]:
        data = {
            "type": "string",
            "contentMediaType": JSON,
            "contentSchema": {"$ref": f"#/components/schemas/{EVENT_PREFIX}{kind}"},
        }
        return {
            "type": "object",
            "required": ["event", "data"],
            "properties": {"event": {"const": kind}, "id": {"type": "string", "pattern": "^[0-9]+$"}, "data": data},
        }

    return {"oneOf": [one(kind) for kind in kinds]}


def field_schema(field: FormField, choices: Iterable[str] = (), default: str | None = None) -> dict[str, Any]:
    """A form field's JSON Schema from its declaration (``choices``/``default``: the configuration's)."""
    schema: dict[str, Any] = {"type": field.type, "description": field.description}
    enum = tuple(choices) or field.choices
    if enum:
        schema["enum"] = list(enum)
    value = field.default if default is None else default
    if value is not None:
        schema["default"] = value
    if field.minimum is not None:
        schema["minimum"] = field.minimum
    if field.maximum is not None:
        schema["maximum"] = field.maximum
    return schema


def form_schema(body: Body, config: OrchestratorConfig) -> dict[str, Any]:
    """The multipart form of an OCR or comparison request."""
    names = list(config.backends)
    properties: dict[str, Any] = {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "The document: PNG, JPEG, WebP, TIFF, BMP or PDF.",
        },
        "image": {"type": "string", "format": "binary", "description": "Older name of `file`.", "deprecated": True},
    }
    if body == "ocr":
        properties[BACKEND.name] = field_schema(BACKEND, names, config.default_backend)
    else:
        backends = field_schema(BACKENDS)
        backends["description"] += f" Configured: {', '.join(names)}."
        properties[BACKENDS.name] = backends
        properties["reference"] = field_schema(ORCHESTRATOR_FORM["reference"])
    for field in COMMON_FIELDS:
        properties[field.name] = field_schema(field)
    for name in ("cache", "pdf_mode"):
        properties[name] = field_schema(ORCHESTRATOR_FORM[name])
    return {
        "type": "object",
        "required": ["file"],
        "properties": properties,
        "additionalProperties": {
            "type": "string",
            "description": "A backend's own option, passed on as sent (a backend refuses one it does not know).",
        },
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


def error_responses() -> dict[int, dict[str, Any]]:
    """One response per error status, listing the registry's codes for it (and only those)."""
    responses: dict[int, dict[str, Any]] = {}
    for status in sorted({entry.status for entry in ERROR_CODES.values()}):
        codes = sorted(code for code, entry in ERROR_CODES.items() if entry.status == status)
        lines = "\n".join(f"* `{code}` — {ERROR_CODES[code].meaning}" for code in codes)
        responses[status] = {
            "description": f"The contract's error shape; `error.code` is one of:\n\n{lines}",
            "headers": {
                name: {"$ref": f"#/components/headers/{name}"}
                for name in (REQUEST_ID_HEADER, *(("Retry-After",) if status in (429, 503) else ()))
            },
            "content": {
                JSON: {
                    "schema": {
                        "allOf": [
                            {"$ref": "#/components/schemas/error"},
                            {"properties": {"error": {"properties": {"code": {"enum": codes}}}}},
                        ]
                    }
                }
            },
        }
    return responses


def openapi_path(rule: str) -> str:
    """``/jobs/<job_id>`` → ``/jobs/{job_id}``."""
    return FLASK_PARAMETER.sub(r"{\1}", rule)


def documented_routes(app: Flask) -> Iterator[tuple[str, str, str, tuple[str, ...]]]:
    """(path, method, endpoint, path parameters) of every route a client can call."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - IMPLICIT_METHODS):
            yield openapi_path(rule.rule), method, rule.endpoint, tuple(sorted(rule.arguments))


def _operation(method: str, endpoint: str, parameters: tuple[str, ...], config: OrchestratorConfig) -> dict[str, Any]:
    try:
        entry = OPERATIONS[endpoint]
    except KeyError:
        raise LookupError(f"route {endpoint!r} has no entry in orchestrator.openapi.OPERATIONS") from None
    responses: dict[str, Any] = {}
    for answer in entry.answers:
        content = {} if answer.schema is None else {answer.media_type: {"schema": answer.schema}}
        content.update({media_type: {"schema": schema} for media_type, schema in answer.also})
        responses[str(answer.status)] = {"description": answer.description, "content": content}
        if answer.headers:
            responses[str(answer.status)]["headers"] = {
                name: {"$ref": f"#/components/headers/{name}"} for name in answer.headers
            }
    for status in _error_statuses(method, endpoint, entry):
        responses[str(status)] = {"$ref": f"#/components/responses/error_{status}"}
    operation: dict[str, Any] = {
        "operationId": endpoint.replace(".", "_"),
        "summary": entry.summary,
        "tags": [entry.tag],
        "responses": responses,
    }
    if entry.description:
        operation["description"] = entry.description
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in parameters
    ] + list(entry.parameters)
    if params:
        operation["parameters"] = params
    if entry.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": f"{entry.body}_form"}},
        }
    if endpoint in OPEN_ENDPOINTS:
        operation["security"] = []
    return operation


def _version() -> str:
    try:
        return metadata.version("ocr-service")
    except metadata.PackageNotFoundError:
        return "0"


def build_spec(app: Flask, config: OrchestratorConfig) -> dict[str, Any]:
    spec = APISpec(
        title="OCR service",
        version=_version(),
        openapi_version="3.1.0",
        info={
            "description": "One orchestrator in front of several OCR backends: synchronous OCR and comparisons, "
            "asynchronous jobs with server-sent progress, health and metrics. Send the API key as "
            f"`{API_KEY_HEADER}` or `Authorization: Bearer` when the service has keys.",
        },
        tags=[{"name": name} for name in dict.fromkeys(entry.tag for entry in OPERATIONS.values())],
    )
    components = contract_components()
    for name, schema in components.items():
        spec.components.schema(name, schema)
    kinds = [name.removeprefix(EVENT_PREFIX) for name in components if name.startswith(EVENT_PREFIX)]
    spec.components.schema("job_event", event_schema(kinds))
    for body in ("ocr", "compare"):
        spec.components.schema(f"{body}_form", form_schema(body, config))
    for name, header in HEADERS.items():
        spec.components.header(name, header)
    for status, response in error_responses().items():
        spec.components.response(f"error_{status}", response)
    spec.components.security_scheme("ApiKey", {"type": "apiKey", "in": "header", "name": API_KEY_HEADER})
    spec.components.security_scheme("Bearer", {"type": "http", "scheme": "bearer"})
    by_path: dict[str, dict[str, Any]] = {}
    for path, method, endpoint, parameters in documented_routes(app):
        by_path.setdefault(path, {})[method.lower()] = _operation(method, endpoint, parameters, config)
    for path, operations in by_path.items():
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    # No key needed when the service has none: the empty requirement says so.
    document["security"] = [{"ApiKey": []}, {"Bearer": []}, {}]
    return document
