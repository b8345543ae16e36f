"""The API driven by its own description (schemathesis over /openapi.json) against the real processes:
every operation, a bounded number of generated requests each, data that fits the description and
data that does not; no 5xx, every status documented, every response of its documented media type and
schema and headers. The orchestrator's backends are all up, so a 503 would be a fault, not a backend that is down
by design."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.documents import text_image

pytestmark = pytest.mark.integration

#: Generated requests per operation and mode (fitting, not fitting): enough to reach each operation's
#: fields and errors, few enough for the module to stay well under a minute or two on two cores.
EXAMPLES = 10
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
#: A real page, so that generated requests reach the backends and their results are checked too.
PAGE = text_image(["Spec driven", "12 generated requests"], font_size=28, width=640)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def api_schema(api_system):
    # Read as a document, not with from_url (which leaves out the operation that serves the schema).
    return schemathesis.openapi.from_dict(requests.get(api_system.url + "/openapi.json", timeout=30).json())


@pytest.fixture(scope="module")
def finished_jobs(api_system):
    """A finished OCR job and a finished comparison job: real ids for the job operations' requests."""
    ids = []
    for path, fields in (("/jobs", {"backend": "rapidocr"}), ("/jobs/compare", {"backends": "rapidocr,tesseract"})):
        accepted = requests.post(api_system.url + path, files={"file": ("page.png", PAGE)}, data=fields, timeout=30)
        ids.append(accepted.json()["job_id"])
    deadline = time.monotonic() + 120
    for job_id in ids:
        while requests.get(f"{api_system.url}/jobs/{job_id}", timeout=10).json()["status"] != "succeeded":
            assert time.monotonic() < deadline, f"job {job_id} did not succeed"
            time.sleep(0.2)
    return ids


@pytest.fixture(scope="module")
def finished_evaluation(api_system):
    """A finished evaluation of the sample set (tesseract: about a second): a real id for the
    evaluation operations' requests."""
    accepted = requests.post(
        api_system.url + "/evaluations", files={"sample": (None, "true"), "backends": (None, "tesseract")}, timeout=30
    )
    url = api_system.url + accepted.json()["url"]
    deadline = time.monotonic() + 120
    while requests.get(url, timeout=10).json()["status"] != "done":
        assert time.monotonic() < deadline, "the evaluation did not finish"
        time.sleep(0.2)
    return accepted.json()["id"]


def exercise(
    operation, mode: GenerationMode, url: str, statuses: Counter[int], jobs: list[str], evaluation: str
) -> int:
    """Run ``operation`` with generated requests; the number sent (a failure raises, shrunk). An
    operation with nothing that can be made invalid (no body, no constrained parameter) has no
    negative requests: that is not a failure."""
    sent = 0

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans(), job=st.sampled_from(jobs))
    def run(case, real, job):
        nonlocal sent
        sent += 1
        if real and mode is GenerationMode.POSITIVE:
            # Random bytes are refused (415) before any backend, and random job ids are 404: reach
            # the backends and real jobs too, so that their answers are checked as well.
            if isinstance(case.body, dict) and "file" in case.body:
                case.body["file"] = PAGE
            if case.path_parameters and "job_id" in case.path_parameters:
                case.path_parameters["job_id"] = job
            if case.path_parameters and "evaluation_id" in case.path_parameters:
                case.path_parameters["evaluation_id"] = evaluation
                if "name" in case.path_parameters:
                    case.path_parameters["name"] = "letter"
        response = case.call(base_url=url, timeout=60)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        if mode is not GenerationMode.NEGATIVE:
            raise
    return sent


def test_every_operation_conforms_to_the_description(api_schema, api_system, finished_jobs, finished_evaluation):
    sent: dict[str, int] = {}
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in MODES:
            try:
                sent[operation.label] = sent.get(operation.label, 0) + exercise(
                    operation, mode, api_system.url, statuses, finished_jobs, finished_evaluation
                )
            except Exception as exc:  # every operation runs; all failures are reported together
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    documented = {
        f"{method.upper()} {path}"
        for path, operations in api_schema.raw_schema["paths"].items()
        for method in operations
    }
    print(f"\n{len(sent)} operations, {sum(sent.values())} generated requests: {sent}; statuses {dict(statuses)}")
    assert not failures, "\n\n".join(failures)
    assert set(sent) == documented
