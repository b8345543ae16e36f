"""The OpenAPI description: valid OpenAPI 3.1, one operation per registered route and method (no
more, no fewer), the contract's shapes reused as they are, the form fields, choices and defaults
those of the code's declarations, and every error code of the registry documented."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from orchestrator import create_app
from orchestrator.api_operations import OPERATIONS
from orchestrator.config import OrchestratorConfig
from orchestrator.ocr_request import ORCHESTRATOR_FORM, PDF_MODES
from orchestrator.openapi import IMPLICIT_METHODS, contract_components, openapi_path
from shared.api_contract import load_schema
from shared.errors import ERROR_CODES
from shared.options import COMMON_FIELDS, ORCHESTRATOR_FIELDS

BACKENDS = {"rapidocr": ["http://127.0.0.1:9"], "tesseract": ["http://127.0.0.1:9"]}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    config = OrchestratorConfig(backends=BACKENDS, data_dir=tmp_path_factory.mktemp("data"))
    return create_app(config, monitor=False)


@pytest.fixture(scope="module")
def spec(app):
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_spec_is_valid_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_registered_route_is_documented_and_nothing_else(app, spec):
    registered = {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in (rule.methods or set()) - IMPLICIT_METHODS
    }
    documented = {(path, method) for path, operations in spec["paths"].items() for method in operations}
    assert documented == registered
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    assert endpoints == set(OPERATIONS), "OPERATIONS has an entry for each route and none for a route that is gone"


def test_the_contract_shapes_are_the_components_unchanged(spec):
    defs = load_schema()["$defs"]
    schemas = spec["components"]["schemas"]
    assert set(defs) <= set(schemas)
    assert {name: schemas[name] for name in defs} == contract_components()
    assert schemas["error"]["required"] == defs["error"]["required"]
    text = str(spec)
    assert "#/$defs/" not in text


def test_form_fields_come_from_the_declarations(spec):
    form = spec["components"]["schemas"]["ocr_form"]["properties"]
    compare = spec["components"]["schemas"]["compare_form"]["properties"]
    for field in COMMON_FIELDS:
        assert form[field.name]["type"] == field.type
        assert form[field.name].get("default") == field.default
        assert compare[field.name] == form[field.name]
    assert form["dpi"]["minimum"] == COMMON_FIELDS[2].minimum
    assert form["pdf_mode"]["enum"] == list(PDF_MODES)
    assert form["pdf_mode"]["default"] == ORCHESTRATOR_FORM["pdf_mode"].default
    assert form["cache"] == {"type": "boolean", "description": ORCHESTRATOR_FORM["cache"].description, "default": True}
    assert form["backend"]["enum"] == list(BACKENDS)
    assert "reference" in compare and "backends" in compare and "backend" not in compare


def test_the_orchestrator_fields_are_declared_once_each():
    assert set(ORCHESTRATOR_FORM) == ORCHESTRATOR_FIELDS


def test_every_error_code_is_documented_under_its_status(spec):
    responses = spec["components"]["responses"]
    for code, entry in ERROR_CODES.items():
        schema = responses[f"error_{entry.status}"]["content"]["application/json"]["schema"]
        assert code in schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]


def test_the_event_stream_is_described(spec):
    events = spec["paths"]["/jobs/{job_id}/events"]["get"]
    assert "text/event-stream" in events["responses"]["200"]["content"]
    stream = spec["components"]["schemas"]["job_event"]["oneOf"]
    assert [one["properties"]["event"]["const"] for one in stream] == ["status", "progress", "page", "end"]
    for kind in ("status", "progress", "page", "end"):
        assert f"job_event_{kind}" in events["description"]
        assert f"job_event_{kind}" in spec["components"]["schemas"]


def test_the_description_and_docs_need_no_key(tmp_path):
    config = OrchestratorConfig(backends=BACKENDS, data_dir=tmp_path, api_keys=["secret-key-1234567890"])
    client = create_app(config, monitor=False).test_client()
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/health").status_code == 401
    assert client.get("/docs").status_code in (200, 404)  # 404 only while the web client is not built


def test_response_headers_are_documented(spec):
    assert "Location" in spec["paths"]["/jobs"]["post"]["responses"]["202"]["headers"]
    assert "X-Cache" in spec["paths"]["/ocr"]["post"]["responses"]["200"]["headers"]
    assert "Retry-After" in spec["components"]["responses"]["error_503"]["headers"]
    events = spec["paths"]["/jobs/{job_id}/events"]["get"]["parameters"]
    assert {"name": "Last-Event-ID", "in": "header"}.items() <= next(p for p in events if p["in"] == "header").items()


def test_without_a_built_client_the_index_lists_the_described_endpoints(tmp_path, spec):
    config = OrchestratorConfig(backends=BACKENDS, data_dir=tmp_path, web_client_dir=tmp_path / "none")
    client = create_app(config, monitor=False).test_client()
    index = client.get("/").get_json()
    assert index["openapi"] == "/openapi.json" and index["docs"] == "/docs"
    described = {f"{method.upper()} {path}" for path, operations in spec["paths"].items() for method in operations}
    assert set(index["endpoints"]) == described
    missing = client.get("/docs")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
