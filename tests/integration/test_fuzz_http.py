"""Hypothesis over HTTP against the real processes (orchestrator + rapidocr under gunicorn): fewer
examples than the in-process fuzzing, but through the real servers, and afterwards every worker
that was there before is still there (none died or was replaced)."""

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.fuzz import documents, file_names, form_fields
from tests.support.processes import worker_pids

HTTP_FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


def post(url, data, name, fields):
    fields = {k: v for k, v in fields.items() if k != "file"}
    return requests.post(url, files={"file": (name or "", data)}, data=fields, timeout=120)


def check(response):
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
    assert 200 <= response.status_code < 500, response.text[:500]


@pytest.fixture(scope="module")
def workers(system):
    def pids():
        return {
            name: sorted(worker_pids(service.process.pid))
            for name, service in (("orchestrator", system.orchestrator), ("backend", system.backend))
        }

    before = pids()
    assert all(before.values())
    yield system
    assert pids() == before, "a worker died or was replaced during the fuzzing"
    assert system.orchestrator.process.poll() is None and system.backend.process.poll() is None


@HTTP_FUZZ
@given(
    path=st.sampled_from(["/ocr", "/ocr/image", "/ocr/pdf", "/ocr/compare", "/jobs"]),
    data=documents,
    name=file_names,
    fields=form_fields,
)
def test_orchestrator_over_http(workers, path, data, name, fields):
    # Only rapidocr runs here (the others are down on purpose, a 503 by design): point at it.
    if fields.get("backend", "").strip() in ("", "mineru", "deepseek-ocr"):
        fields["backend"] = "rapidocr"
    if path == "/ocr/compare" and not set(fields.get("backends", "").split(",")) - {"", "mineru", "deepseek-ocr"}:
        fields["backends"] = "rapidocr"
    check(post(workers.url + path, data, name, fields))


@HTTP_FUZZ
@given(path=st.sampled_from(["/ocr", "/ocr/image", "/ocr/pdf"]), data=documents, name=file_names, fields=form_fields)
def test_backend_over_http(workers, path, data, name, fields):
    check(post(workers.backend.url + path, data, name, fields))
