"""Hypothesis fuzzing through Flask's test client (fast, many examples): whatever the bytes, file name
or fields, the orchestrator and a backend answer JSON, and never a 5xx.

The orchestrator's backend is the real backend server with a stand-in model (decoding, PDF
inspection and rendering are real), served on a loopback port from a thread.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator import create_app
from orchestrator.config import OrchestratorConfig
from shared.backend_server import BackendServerConfig, create_backend_app
from shared.uploads import UploadLimits
from tests.support import standin_http
from tests.support.fuzz import documents, file_names, form_fields
from tests.support.multipart import multipart
from tests.unit.test_backend_server import StandInBackend

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIMITS = UploadLimits(max_bytes=1_000_000, max_pixels=4_000_000, max_pdf_pages=4)


def send(client, path, data, name, fields):
    # Form fields first, the file last, as browsers send them; a fuzzed field named "file" stays a field.
    body, content_type = multipart({"file": (name or "", data)}, {k: v for k, v in fields.items() if k != "file"})
    return client.post(path, data=body, content_type=content_type)


def check(response):
    assert response.is_json, response.data[:200]
    assert 200 <= response.status_code < 500, response.get_json()
    if response.status_code >= 400:
        assert response.get_json()["success"] is False and response.get_json()["error"]["code"]


@pytest.fixture(scope="module")
def orchestrator(tmp_path_factory):
    backend = standin_http.serve_wsgi(
        create_backend_app(StandInBackend(), BackendServerConfig(limits=LIMITS, background_load=False))
    )
    config = OrchestratorConfig(
        backends={"rapidocr": [f"http://127.0.0.1:{backend.port}"]},
        data_dir=tmp_path_factory.mktemp("fuzz"),
        limits=LIMITS,
        job_queue_max=10_000,
    )
    app = create_app(config, monitor=False)
    app.extensions["ocr_orchestrator"].registry.check_all()
    yield app.test_client()
    backend.shutdown()


@pytest.fixture(scope="module")
def backend():
    app = create_backend_app(StandInBackend(), BackendServerConfig(limits=LIMITS, background_load=False))
    return app.test_client()


@FUZZ
@given(
    path=st.sampled_from(["/ocr", "/ocr/image", "/ocr/pdf", "/ocr/compare", "/jobs", "/jobs/compare"]),
    data=documents,
    name=file_names,
    fields=form_fields,
)
def test_orchestrator_answers_json_4xx_never_5xx(orchestrator, path, data, name, fields):
    check(send(orchestrator, path, data, name, fields))


@FUZZ
@given(path=st.sampled_from(["/ocr", "/ocr/image", "/ocr/pdf"]), data=documents, name=file_names, fields=form_fields)
def test_backend_answers_json_4xx_never_5xx(backend, path, data, name, fields):
    check(send(backend, path, data, name, fields))


@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(max_size=512),
    content_type=st.sampled_from(
        ["multipart/form-data; boundary=x", "multipart/form-data", "application/json", "text/plain", ""]
    ),
)
def test_raw_bodies_never_break_either(orchestrator, backend, body, content_type):
    for client in (orchestrator, backend):
        check(client.post("/ocr", data=body, content_type=content_type))


# Inputs the fuzzer found that were 500s (PyMuPDF raising on a broken page tree only when counting,
# loading or cutting pages); kept as plain regression cases.
BROKEN_PDFS = [
    b"%PDF-\x00\x00\x001\x000\x00obj<</Type/Catalog/Pages\x002\x000\x00R/\x00\x01>>2\x000\x00obj<<///Count\x003>>",
    b"%PDF-\x00\x00\x001\x000\x00obj<</Type/Catalog/Pages\x002\x000\x00R/\x00\x01>>2\x000\x00obj<</\x00\x01/Count\x001/Kids[+]>>",
]


@pytest.mark.parametrize("data", BROKEN_PDFS)
@pytest.mark.parametrize("path", ["/ocr", "/ocr/pdf"])
def test_broken_page_trees_are_never_500(orchestrator, backend, data, path):
    for client in (orchestrator, backend):
        response = send(client, path, data, "x.pdf", {})
        check(response)
        assert response.status_code == 200 or response.get_json()["error"]["code"] == "corrupt_file"
