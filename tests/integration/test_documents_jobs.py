"""Documents at scale through the real orchestrator and rapidocr backend: PDF slicing, the text
layer, async jobs with progress, events and cancel, restart, comparison and the result cache."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.documents import cer, text_image, text_pdf
from tests.support.processes import UNREACHABLE_URL, start_backend, start_orchestrator, wait_healthy
from tests.support.schema import validate
from tests.support.sse import read_events

pytestmark = pytest.mark.integration

PAGES = [[f"Page {n} says number {n * 111}."] for n in range(1, 6)]
# Small renders keep rapidocr quick on a 2-core machine; 16 pt text reads fine at 150 dpi.
FAST = {"dpi": "150", "boxes_image": "false"}


class Stack:
    def __init__(self, logs, backend, tesseract, down_url):
        self.logs, self.backend, self.tesseract, self.down_url = logs, backend, tesseract, down_url
        self.orchestrator = None

    def start_orchestrator(self):
        self.orchestrator = start_orchestrator(
            {"rapidocr": self.backend.url, "tesseract": self.tesseract.url, "mineru": self.down_url},
            self.logs,
            env={"PDF_CONCURRENCY": "rapidocr=1"},
        )  # one slice at a time: a cancel lands mid-way
        wait_healthy(self.orchestrator, need_model=False)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait until the orchestrator has seen both CPU backends healthy
            statuses = {b["name"]: b["status"] for b in self.get("/backends").json()["backends"]}
            if statuses["rapidocr"] == statuses["tesseract"] == "healthy":
                return
            time.sleep(0.2)

    @property
    def url(self):
        return self.orchestrator.url

    def get(self, path):
        return requests.get(self.url + path, timeout=30)

    def post(self, path, data, name="doc.pdf", **fields):
        return requests.post(self.url + path, files={"file": (name, data)}, data=fields, timeout=180)

    def _settled_count(self, needle):
        """Lines with ``needle`` in the backend's access log once it stops changing: gunicorn writes
        a line just after the answer goes out, so a count taken at once can miss the last one."""
        count = self.backend.log().count(needle)
        while True:
            time.sleep(0.3)
            again = self.backend.log().count(needle)
            if again == count:
                return count
            count = again

    def backend_pdf_calls(self):
        """POSTs the rapidocr backend has received, from its access log."""
        return self._settled_count('"POST /ocr/pdf')

    def backend_calls(self):
        return self._settled_count('"POST /ocr')

    def wait_backend_idle(self, quiet=1.5, timeout=120):
        """Until the backend has had nothing in flight or queued for ``quiet`` seconds."""
        deadline, idle_since = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            health = requests.get(self.backend.url + "/health", timeout=5).json()
            if health["in_flight"] or health["queued"]:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= quiet:
                return
            time.sleep(0.1)
        raise AssertionError("the backend never went idle")

    def wait_job(self, job_id, final=("succeeded", "failed", "cancelled"), timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.get(f"/jobs/{job_id}").json()
            if body["status"] in final:
                return body
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} still {body['status']}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    logs = tmp_path_factory.mktemp("documents-logs")
    backend = start_backend("rapidocr", logs, env={"ACCESS_LOG": "-"})
    tesseract = start_backend("tesseract", logs)
    stack = Stack(logs, backend, tesseract, UNREACHABLE_URL)
    try:
        wait_healthy(backend)
        wait_healthy(tesseract)
        stack.start_orchestrator()
        yield stack
    finally:
        if stack.orchestrator is not None:
            stack.orchestrator.stop()
        backend.stop()
        tesseract.stop()


def test_pdf_job_progress_events_and_page_order(stack):
    accepted = stack.post("/jobs", text_pdf(PAGES), backend="rapidocr", cache="false", **FAST)
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    validate(body, "job_accepted")
    assert accepted.headers["Location"] == body["status_url"] == f"/jobs/{body['job_id']}"
    events = read_events(stack.url + body["events_url"])
    ids = [event.id for event in events if event.id is not None]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    progress = [(e.data["pages_done"], e.data["pages_total"]) for e in events if e.type == "progress"]
    assert progress == [(n, 5) for n in range(0, 6)]
    assert [e.data["page"]["page"] for e in events if e.type == "page"] == [1, 2, 3, 4, 5]
    assert [e.data["status"] for e in events if e.type == "status"] == ["queued", "running", "succeeded"]
    assert events[-1].type == "end" and events[-1].data == {"status": "succeeded"}
    job = stack.get(body["status_url"]).json()
    validate(job, "job_status")
    assert job["status"] == "succeeded" and job["progress"]["pages_done"] == job["progress"]["pages_total"] == 5
    result = job["result"]
    validate(result, "job_ocr_result")
    assert "pages" not in result  # a job's pages are given once: in its "pages"
    assert [p["page"] for p in job["pages"]["rapidocr"]] == [1, 2, 3, 4, 5]
    for n, page in enumerate(job["pages"]["rapidocr"], start=1):
        assert f"{n * 111}" in page["markdown"], page["markdown"]
    # Resuming after an event id gives only what came after it.
    later = read_events(stack.url + body["events_url"], last_event_id=ids[-3])
    assert [e.id for e in later if e.id is not None] == ids[-2:]


def test_cancel_mid_way_stops_dispatch(stack):
    before = stack.backend_pdf_calls()
    pdf = text_pdf([[f"Cancel me {n}"] for n in range(1, 9)])
    job_id = stack.post("/jobs", pdf, backend="rapidocr", cache="false", dpi="300").json()["job_id"]
    deadline = time.monotonic() + 60
    while stack.get(f"/jobs/{job_id}").json()["progress"]["pages_done"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    cancelled = requests.delete(f"{stack.url}/jobs/{job_id}", timeout=10).json()
    validate(cancelled, "job_status")
    assert cancelled["status"] == "cancelled"
    stack.wait_backend_idle()  # the slice in flight finishes; a slice still being sent would show here
    sent = stack.backend_pdf_calls() - before
    assert sent <= 3, f"{sent} of 8 slices were sent after the cancel"
    final = stack.get(f"/jobs/{job_id}").json()
    assert final["status"] == "cancelled" and final["progress"]["pages_done"] < 8
    assert "result" not in final


def test_page_range_picks_the_right_pages(stack):
    response = stack.post("/ocr", text_pdf(PAGES), backend="rapidocr", page_range="2,4-5", **FAST)
    body = response.json()
    assert response.status_code == 200, body
    validate(body)
    assert [p["page"] for p in body["pages"]] == [2, 4, 5]
    assert [
        "222" in body["pages"][0]["markdown"],
        "444" in body["pages"][1]["markdown"],
        "555" in body["pages"][2]["markdown"],
    ] == [True, True, True]
    assert body["dispatch"]["slices"] == 3 and body["options"]["page_range"] == "2,4-5"
    bad = stack.post("/ocr", text_pdf(PAGES), backend="rapidocr", page_range="4-9")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_option"


def test_pdf_mode_auto_reads_text_pages_without_the_backend(stack):
    lines = ["The quick brown fox jumps over the lazy dog.", "Invoice 2026-0417: total $1,541.40 (VAT 20%)."]
    pdf = text_pdf([lines, [], lines[::-1]])  # page 2 has no text layer: it goes to the backend
    before = stack.backend_pdf_calls()
    response = stack.post("/ocr", pdf, backend="rapidocr", pdf_mode="auto", cache="false", **FAST)
    body = response.json()
    assert response.status_code == 200, body
    validate(body)
    assert stack.backend_pdf_calls() - before == 1
    assert [p["source"] for p in body["pages"]] == ["text_layer", "backend", "text_layer"]
    assert body["pages"][0]["markdown"] == "\n\n".join(lines)
    assert body["pages"][2]["markdown"] == "\n\n".join(lines[::-1])
    assert body["dispatch"]["text_layer_pages"] == [1, 3]
    block = body["pages"][0]["blocks"][0]
    assert block["text"] == lines[0] and block["bbox"][0] == pytest.approx(72 * 150 / 72, abs=2)
    only_text = stack.post("/ocr", text_pdf([lines]), backend="rapidocr", pdf_mode="auto", cache="false")
    assert only_text.json()["model"].startswith("PDF text layer") and stack.backend_pdf_calls() - before == 1


def test_comparison_with_a_backend_that_is_down(stack):
    reference = "Comparison page for the models."
    response = stack.post(
        "/ocr/compare", text_image([reference]), name="page.png", backends="rapidocr,mineru", reference=reference
    )
    body = response.json()
    assert response.status_code == 200, body
    validate(body, "comparison_result")
    assert body["backends"] == ["rapidocr", "mineru"] and body["success"] is True
    assert body["results"]["rapidocr"]["success"] is True
    error = body["results"]["mineru"]
    assert error["success"] is False and error["backend"] == "mineru"
    assert error["error"]["code"] == "backend_unavailable" and "mineru" in error["error"]["message"]
    assert body["agreement"] == []  # one text: nothing to compare it with
    scores = body["reference_scores"]
    assert set(scores) == {"rapidocr"}
    assert scores["rapidocr"]["cer"] == pytest.approx(cer(reference, body["results"]["rapidocr"]["markdown"]), abs=0.02)
    assert scores["rapidocr"]["cer"] < 0.1
    unknown = stack.post("/ocr/compare", text_image(["x"]), name="page.png", backends="rapidocr,nope")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_backend"


def test_comparison_of_rapidocr_and_tesseract(stack):
    lines = ["Comparing two models on one page.", "Both should read this line well."]
    reference = "\n".join(lines)
    response = stack.post(
        "/ocr/compare", text_image(lines), name="page.png", backends="rapidocr,tesseract", reference=reference
    )
    body = response.json()
    assert response.status_code == 200, body
    validate(body, "comparison_result")
    assert set(body["results"]) == {"rapidocr", "tesseract"}
    for name in ("rapidocr", "tesseract"):
        validate(body["results"][name])
        assert body["results"][name]["success"] is True and body["results"][name]["backend"] == name
        assert body["times"][name] > 0 and body["reference_scores"][name]["cer"] < 0.1
    [pair] = body["agreement"]
    assert pair["backends"] == ["rapidocr", "tesseract"] and pair["agreement"] > 0.85
    default = stack.post("/ocr/compare", text_image(lines), name="page.png")  # every healthy backend
    assert default.json()["backends"] == ["rapidocr", "tesseract"]


def test_comparison_as_a_job(stack):
    accepted = stack.post("/jobs/compare", text_pdf(PAGES[:2]), backends="rapidocr,mineru", **FAST)
    assert accepted.status_code == 202
    job = stack.wait_job(accepted.json()["job_id"])
    validate(job, "job_status")
    assert job["kind"] == "compare" and job["status"] == "succeeded"
    result = job["result"]
    assert [p["page"] for p in job["pages"]["rapidocr"]] == [1, 2] and "pages" not in result["results"]["rapidocr"]
    assert result["results"]["mineru"]["error"]["code"] == "backend_unavailable"
    assert job["progress"]["backends"]["rapidocr"] == {"pages_done": 2, "pages_total": 2}


def test_cache_answers_a_repeat_and_misses_on_other_options(stack):
    image = text_image(["Cache me if you can, said the page."])
    first = stack.post("/ocr", image, name="page.png", backend="rapidocr")
    assert first.status_code == 200 and first.headers["X-Cache"] == "miss" and "cache" not in first.json()
    calls = stack.backend_calls()
    started = time.perf_counter()
    again = stack.post("/ocr", image, name="page.png", backend="rapidocr")
    repeat_seconds = time.perf_counter() - started
    body = again.json()
    validate(body)
    assert again.headers["X-Cache"] == "hit" and body["cache"]["hit"] is True
    assert body["markdown"] == first.json()["markdown"] and body["request_id"] != first.json()["request_id"]
    assert stack.backend_calls() == calls, "a cache hit must not reach the backend"
    assert repeat_seconds < first.json()["processing_time"] / 3
    other_option = stack.post("/ocr", image, name="page.png", backend="rapidocr", boxes_image="false")
    assert other_option.headers["X-Cache"] == "miss"
    bypass = stack.post("/ocr", image, name="page.png", backend="rapidocr", cache="false")
    assert bypass.headers["X-Cache"] == "bypass" and "cache" not in bypass.json()
    other_backend = stack.post("/ocr", image, name="page.png", backend="tesseract")
    assert other_backend.headers["X-Cache"] == "miss" and other_backend.json()["backend"] == "tesseract"
    down = stack.post("/ocr", image, name="page.png", backend="mineru")
    assert down.status_code == 503  # never answered from another backend's cached result


def test_restart_keeps_finished_results_and_fails_running_jobs(stack):
    done_id = stack.post("/jobs", text_image(["Kept across restarts."]), name="page.png", backend="rapidocr").json()[
        "job_id"
    ]
    assert stack.wait_job(done_id)["status"] == "succeeded"
    running_id = stack.post(
        "/jobs", text_pdf([[f"Long {n}"] for n in range(12)]), backend="rapidocr", cache="false", dpi="300"
    ).json()["job_id"]
    stack.wait_job(running_id, final=("running",), timeout=30)
    stack.orchestrator.kill()
    stack.start_orchestrator()
    kept = stack.get(f"/jobs/{done_id}").json()
    validate(kept, "job_status")
    assert kept["status"] == "succeeded" and "Kept across restarts" in kept["result"]["markdown"]
    failed = stack.get(f"/jobs/{running_id}").json()
    assert failed["status"] == "failed" and failed["error"]["code"] == "orchestrator_restarted"
    assert "restart" in failed["error"]["message"]
    missing = stack.get("/jobs/not-a-job")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "job_not_found"
