"""One parsed request through the orchestrator: exact cache keys and hits that show only this
request's fields, the backend fingerprint in the key, slices answered with the wrong page count,
long references, and a job's pages given once."""

from __future__ import annotations

import io
import time

import pytest

from orchestrator import create_app
from orchestrator.config import OrchestratorConfig
from tests.support import standin_http
from tests.support.client import post_file
from tests.support.documents import text_image, text_pdf
from tests.support.schema import validate

IMAGE = text_image(["cache me"])
THREE_PAGES = text_pdf([["one"], ["two"], ["three"]])


@pytest.fixture
def standin():
    server = standin_http.serve("delayed", delay=0)
    yield server
    server.shutdown()


def orchestrator(tmp_path, server, name: str = "delayed", **settings):
    config = OrchestratorConfig(
        backends={name: [f"http://127.0.0.1:{server.server_port}"]}, default_backend=name, data_dir=tmp_path, **settings
    )
    app = create_app(config, monitor=False)
    app.extensions["ocr_orchestrator"].registry.check_all()
    return app


def entries(app) -> int:
    return app.extensions["ocr_orchestrator"].cache.stats()["entries"]


def test_prompts_that_differ_only_in_whitespace_are_two_cache_entries(tmp_path, standin):
    app = orchestrator(tmp_path, standin)
    client = app.test_client()
    for prompt in ("Read it.\nAll of it.", "Read it. All of it.", "Read it.\nAll of it."):
        assert post_file(client, IMAGE, "/ocr", "a.png", prompt=prompt).status_code == 200
    assert entries(app) == 2 and standin.hits - 1 == 2  # one health poll, two OCR calls


def test_an_explicit_default_shares_the_entry_stored_without_it(tmp_path, standin):
    app = orchestrator(tmp_path, standin)
    client = app.test_client()
    first = post_file(client, IMAGE, "/ocr", "a.png")
    second = post_file(client, IMAGE, "/ocr", "a.png", boxes_image="true")
    assert first.headers["X-Cache"] == "miss" and second.headers["X-Cache"] == "hit"
    assert post_file(client, IMAGE, "/ocr", "a.png", boxes_image="false").headers["X-Cache"] == "miss"
    assert entries(app) == 2


def test_a_hit_shows_this_requests_name_id_and_options_never_the_first_clients(tmp_path, standin):
    client = orchestrator(tmp_path, standin).test_client()
    alice = post_file(client, IMAGE, "/ocr", "alice-confidential-merger-plan.png", tenant_note="alice")
    bob = post_file(client, IMAGE, "/ocr", "bob.png", tenant_note="alice", headers={"X-Request-ID": "bob-1"})
    assert bob.headers["X-Cache"] == "hit"
    body = bob.get_json()
    validate(body, "ocr_result")
    assert body["image_name"] == "bob.png" and body["request_id"] == "bob-1"
    assert "alice-confidential" not in bob.get_data(as_text=True)
    assert alice.get_json()["request_id"] != "bob-1"


def test_a_new_backend_fingerprint_misses_the_cache(tmp_path, standin):
    app = orchestrator(tmp_path, standin)
    client = app.test_client()
    assert post_file(client, IMAGE, "/ocr", "a.png").headers["X-Cache"] == "miss"
    assert post_file(client, IMAGE, "/ocr", "a.png").headers["X-Cache"] == "hit"
    standin.RequestHandlerClass.behaviour_fingerprint = "delayed-2"  # e.g. the direction classifier turned on
    app.extensions["ocr_orchestrator"].registry.check_all()
    assert post_file(client, IMAGE, "/ocr", "a.png").headers["X-Cache"] == "miss"


def test_a_backend_without_a_fingerprint_is_not_cached(tmp_path, standin):
    standin.RequestHandlerClass.behaviour_fingerprint = None
    app = orchestrator(tmp_path, standin)
    client = app.test_client()
    assert post_file(client, IMAGE, "/ocr", "a.png").headers["X-Cache"] == "miss"
    assert post_file(client, IMAGE, "/ocr", "a.png").headers["X-Cache"] == "miss" and entries(app) == 0


def test_cached_results_expire(tmp_path, standin):
    client = orchestrator(tmp_path, standin, cache_ttl=1.0).test_client()
    assert post_file(client, IMAGE, "/ocr", "a.png").headers["X-Cache"] == "miss"
    assert post_file(client, IMAGE, "/ocr", "a.png").headers["X-Cache"] == "hit"
    time.sleep(1.1)
    assert post_file(client, IMAGE, "/ocr", "a.png").headers["X-Cache"] == "miss"


@pytest.fixture
def two_pages():
    server = standin_http.serve("two_pages", delay=0)
    yield server
    server.shutdown()


def test_a_slice_answered_with_the_wrong_page_count_is_502_naming_the_backend(tmp_path, two_pages):
    client = orchestrator(tmp_path, two_pages, name="two_pages", slice_pages={"two_pages": 3}).test_client()
    response = post_file(client, THREE_PAGES, "/ocr", "doc.pdf", cache="false")
    body = response.get_json()
    validate(body)
    assert response.status_code == 502 and body["error"]["code"] == "bad_backend_response"
    assert "'two_pages'" in body["error"]["message"] and "3-page" in body["error"]["message"]
    assert body["backend"] == "two_pages"


def test_a_job_whose_slice_lost_a_page_fails_with_502(tmp_path, two_pages):
    client = orchestrator(tmp_path, two_pages, name="two_pages", slice_pages={"two_pages": 3}).test_client()
    job = post_file(client, THREE_PAGES, "/jobs", "doc.pdf", cache="false").get_json()
    deadline = time.monotonic() + 20
    while (status := client.get(job["status_url"]).get_json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status["status"] == "failed" and status["error"]["code"] == "bad_backend_response"
    assert status["error"]["status"] == 502 and status["error"]["backend"] == "two_pages"


REFERENCE = "The quick brown fox jumps over the lazy dog. " * 6700  # about 300 KB


def test_compare_takes_a_300_kb_reference_as_a_field_or_a_file(tmp_path, standin):
    client = orchestrator(tmp_path, standin).test_client()
    assert len(REFERENCE.encode()) > 300_000
    as_field = post_file(client, IMAGE, "/ocr/compare", "a.png", backends="delayed", reference=REFERENCE)
    assert as_field.status_code == 200, as_field.get_json()
    assert as_field.get_json()["reference_scores"]["delayed"]["cer"] > 0.9
    as_file = client.post(
        "/ocr/compare",
        data={
            "backends": "delayed",
            "file": (io.BytesIO(IMAGE), "a.png"),
            "reference": (io.BytesIO(REFERENCE.encode()), "truth.txt"),
        },
    )
    assert as_file.status_code == 200, as_file.get_json()
    assert as_file.get_json()["reference_scores"] == as_field.get_json()["reference_scores"]


def test_a_reference_over_its_limit_or_not_utf8_is_400(tmp_path, standin):
    client = orchestrator(tmp_path, standin).test_client()
    too_long = "x" * 1_000_001
    response = post_file(client, IMAGE, "/ocr/compare", "a.png", backends="delayed", reference=too_long)
    assert response.status_code == 400 and "1000000" in response.get_json()["error"]["message"]
    binary = client.post(
        "/ocr/compare",
        data={
            "backends": "delayed",
            "file": (io.BytesIO(IMAGE), "a.png"),
            "reference": (io.BytesIO(b"\xff\xfe\x00bad"), "truth.txt"),
        },
    )
    assert binary.status_code == 400 and "UTF-8" in binary.get_json()["error"]["message"]


def wait_final(client, url: str) -> dict:
    deadline = time.monotonic() + 20
    while (status := client.get(url).get_json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return status


def test_a_compare_job_takes_the_long_reference_and_gives_pages_once(tmp_path, standin):
    client = orchestrator(tmp_path, standin).test_client()
    accepted = post_file(client, IMAGE, "/jobs/compare", "a.png", backends="delayed", reference=REFERENCE)
    status = wait_final(client, accepted.get_json()["status_url"])
    validate(status, "job_status")
    assert status["status"] == "succeeded" and "delayed" in status["result"]["reference_scores"]
    assert len(status["pages"]["delayed"]) == 1
    assert "pages" not in status["result"]["results"]["delayed"]


def test_a_job_gives_its_pages_once(tmp_path, standin):
    client = orchestrator(tmp_path, standin).test_client()
    status = wait_final(client, post_file(client, IMAGE, "/jobs", "a.png").get_json()["status_url"])
    validate(status, "job_status")
    assert status["status"] == "succeeded" and len(status["pages"]["delayed"]) == 1
    assert "pages" not in status["result"]
    assert client.get(status["status_url"]).get_data(as_text=True).count('"blocks"') == 1
