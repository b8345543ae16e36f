"""The orchestrator's OpenAPI 3.1 description, built when asked from what the code already declares:
the routes registered on the app (``app.url_map``), the form fields (shared/options.py and
orchestrator/ocr_request.py), the configured backends, the error registry (shared/errors.py) and the
contract's JSON Schema (shared/contract.schema.json, whose ``$defs`` become the components as they
are). apispec assembles the document; what each operation answers is orchestrator/api_operations.py,
and a route without an entry there fails the build (and the tests).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from importlib import metadata
from typing import Any, get_args

from apispec import APISpec
from flask import Flask

from orchestrator.access import API_KEY_HEADER, OPEN_ENDPOINTS
from orchestrator.api_operations import (
    EVENT_STREAMS,
    HEADERS,
    JSON,
    OPERATIONS,
    Body,
    error_statuses,
)
from orchestrator.config import OrchestratorConfig
from orchestrator.ocr_request import BACKEND, BACKENDS, ORCHESTRATOR_FORM
from orchestrator.page_images import PREVIEW_FORM
from orchestrator.routes.evaluations import EVALUATION_BACKENDS, NORMALIZATION, SAMPLE
from shared.api_contract import load_schema
from shared.errors import ERROR_CODES
from shared.http_common import REQUEST_ID_HEADER
from shared.options import COMMON_FIELDS, FormField

#: Methods Flask adds to every route by itself.
IMPLICIT_METHODS = frozenset({"HEAD", "OPTIONS"})
CONTRACT_REF = re.compile(r"^#/\$defs/")
FLASK_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


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


def event_schema(stream: str, kinds: Iterable[str]) -> dict[str, Any]:
    """One server-sent event as a JSON object (``event``, ``id``, ``data``), the way OpenAPI 3.2
    describes a stream item and schemathesis checks it: ``data`` is JSON text of the kind's shape."""

    def one(kind: str) -> dict[str, Any]:
        data = {
            "type": "string",
            "contentMediaType": JSON,
            "contentSchema": {"$ref": f"#/components/schemas/{stream}_{kind}"},
        }
        return {
            "type": "object",
            "required": ["event", "data"],
            "properties": {"event": {"const": kind}, "id": {"type": "string", "pattern": "^[0-9]+$"}, "data": data},
        }

    return {"oneOf": [one(kind) for kind in kinds]}


def field_schema(field: FormField, choices: Iterable[str] = (), default: str | None = None) -> dict[str, Any]:
    """A form field's JSON Schema from its declaration (``choices``/``default``: the configuration's)."""
    return replace(
        field, choices=tuple(choices) or field.choices, default=field.default if default is None else default
    ).schema()


def option_properties() -> dict[str, Any]:
    """The options every OCR request takes: the common ones and the orchestrator's cache and PDF mode."""
    properties = {field.name: field_schema(field) for field in COMMON_FIELDS}
    properties.update({name: field_schema(ORCHESTRATOR_FORM[name]) for name in ("cache", "pdf_mode")})
    return properties


def preview_form_schema() -> dict[str, Any]:
    """The multipart form of ``POST /pdf/preview``."""
    properties: dict[str, Any] = {
        "file": {"type": "string", "format": "binary", "description": "The PDF."},
        "image": {"type": "string", "format": "binary", "description": "Older name of `file`.", "deprecated": True},
    }
    for field in PREVIEW_FORM:
        properties[field.name] = field_schema(field)
    return {"type": "object", "required": ["file"], "properties": properties}


def form_schema(body: Body, config: OrchestratorConfig) -> dict[str, Any]:
    """The multipart form of an OCR, comparison, evaluation or PDF preview request."""
    if body == "preview":
        return preview_form_schema()
    names = list(config.backends)
    if body == "evaluation":
        return evaluation_form_schema(config)
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
    properties.update(option_properties())
    return {
        "type": "object",
        "required": ["file"],
        "properties": properties,
        "additionalProperties": {
            "type": "string",
            "description": "A backend's own option: one it publishes (GET /backends, `options`), else 400.",
        },
    }


def evaluation_form_schema(config: OrchestratorConfig) -> dict[str, Any]:
    """The multipart form of ``POST /evaluations``: the set, the backends, the normalisation, the options."""
    backends = field_schema(EVALUATION_BACKENDS)
    backends["description"] += f" Configured: {', '.join(config.backends)}; default: {config.default_backend}."
    properties: dict[str, Any] = {
        "archive": {"type": "string", "format": "binary", "description": "The labelled set as one zip."},
        "file": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": "The labelled set as files: documents, their `name.txt`/`name.md`, `labels.csv`.",
        },
        SAMPLE.name: field_schema(SAMPLE),
        EVALUATION_BACKENDS.name: backends,
        NORMALIZATION.name: field_schema(NORMALIZATION),
    }
    properties.update(option_properties())
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": {
            "type": "string",
            "description": "A backend's own option: one every chosen backend publishes, else 400.",
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
    for status in error_statuses(method, endpoint, entry):
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
    for stream in EVENT_STREAMS:
        kinds = [name.removeprefix(f"{stream}_") for name in components if name.startswith(f"{stream}_")]
        spec.components.schema(stream, event_schema(stream, kinds))
    for body in get_args(Body):
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
