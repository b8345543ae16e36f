"""Operations on real gunicorn processes: metrics summed across workers (and recycled workers), one
request id in the orchestrator's and the backend's JSON lines, the backend token, a backend killed
mid-request and brought back, graceful shutdown."""

from __future__ import annotations

import json
import signal
import threading
import time
from contextlib import contextmanager

import requests

from tests.support.documents import text_image
from tests.support.metrics import value
from tests.support.processes import free_ports, start_backend, start_orchestrator, wait_healthy, worker_pids
from tests.support.standin_backend import APP as SLOW_APP

IMAGE = text_image(["private words"], width=300)


@contextmanager
def slow_stack(logs, *, backend_env=None, orchestrator_env=None):
    backend_port, orchestrator_port = free_ports(2)
    backend = start_backend("slow", logs, port=backend_port, app=SLOW_APP, env=backend_env or {})
    orchestrator = start_orchestrator(
        {"slow": backend.url},
        logs,
        port=orchestrator_port,
        env={"OCR_DEFAULT_BACKEND": "slow", **(orchestrator_env or {})},
    )
    try:
        wait_healthy(backend)
        wait_healthy(orchestrator, need_model=False)
        wait_backend_state(orchestrator.url, "healthy", headers=_key_headers(orchestrator_env))
        yield backend, orchestrator
    finally:
        orchestrator.stop()
        backend.stop()


def _key_headers(env):
    keys = (env or {}).get("ORCHESTRATOR_API_KEYS")
    return {"X-API-Key": keys.split(",")[0]} if keys else {}


def wait_backend_state(url, state, timeout=60, headers=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        backends = requests.get(url + "/backends", headers=headers or {}, timeout=5).json()["backends"]
        if backends[0]["status"] == state:
            return backends[0]
        time.sleep(0.2)
    raise AssertionError(f"backend never became {state}: {backends}")


def wait_status(url, status, timeout=30):
    """Each orchestrator worker polls health on its own: wait until whichever answers agrees."""
    deadline = time.monotonic() + timeout
    while requests.get(url, timeout=5).status_code != status:
        assert time.monotonic() < deadline, f"{url} never answered {status}"
        time.sleep(0.2)


def ocr(url, headers=None, **fields):
    return requests.post(
        url + "/ocr",
        files={"file": ("private-name.png", IMAGE)},
        data={"cache": "false", **fields},
        headers=headers or {},
        timeout=120,
    )


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_metrics_add_up_across_workers_and_recycled_workers(tmp_path):
    requests_made = 60
    env = {"ORCHESTRATOR_WORKERS": "3", "ORCHESTRATOR_MAX_REQUESTS": "12", "ORCHESTRATOR_MAX_REQUESTS_JITTER": "0"}
    with slow_stack(tmp_path, orchestrator_env=env) as (backend, orchestrator):
        first_workers = set(worker_pids(orchestrator.process.pid))
        assert len(first_workers) == 3
        for _ in range(requests_made):  # a new connection each time: the kernel spreads them over workers
            assert ocr(orchestrator.url).status_code == 200
        # A worker at its limit finishes what it holds, then leaves and gunicorn replaces it: on a
        # busy machine that takes a moment after the last answer.
        deadline = time.monotonic() + 20
        while not first_workers - set(worker_pids(orchestrator.process.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        later_workers = set(worker_pids(orchestrator.process.pid))
        scrapes = [requests.get(orchestrator.url + "/metrics", timeout=10).text for _ in range(6)]
        backend_text = requests.get(backend.url + "/metrics", timeout=10).text
    assert first_workers - later_workers, "no worker was recycled after max_requests"
    for text in scrapes:  # whichever worker answers, the figures are the sum over all, dead ones included
        assert value(text, "ocr_requests_total", endpoint="/ocr", status="200", backend="slow") == requests_made
        assert value(text, "ocr_request_duration_seconds_count", endpoint="/ocr", backend="slow") == requests_made
        assert value(text, "ocr_stage_duration_seconds_count", backend="slow", stage="backend_call") == requests_made
        assert value(text, "ocr_in_flight", service="orchestrator") == 0
    assert value(backend_text, "ocr_requests_total", endpoint="/ocr/image", status="200") == requests_made
    assert value(backend_text, "ocr_stage_duration_seconds_count", stage="inference") == requests_made


def test_one_request_id_in_both_json_lines_and_no_document_content(tmp_path):
    with slow_stack(tmp_path) as (backend, orchestrator):
        response = ocr(orchestrator.url, headers={"X-Request-ID": "ops-trace-7"})
        assert response.status_code == 200
        time.sleep(0.5)  # the lines are written just after the answers
        orchestrator_log, backend_log = orchestrator.log(), backend.log()
    mine = [e for e in json_lines(orchestrator_log) if e.get("request_id") == "ops-trace-7" and e.get("event")]
    theirs = [e for e in json_lines(backend_log) if e.get("request_id") == "ops-trace-7" and e.get("event")]
    assert len(mine) == 1 and len(theirs) == 1
    assert mine[0]["service"] == "orchestrator" and mine[0]["backend"] == "slow" and mine[0]["status"] == 200
    assert mine[0]["endpoint"] == "/ocr" and mine[0]["bytes_in"] > len(IMAGE) and mine[0]["duration_ms"] > 0
    assert theirs[0]["endpoint"] == "/ocr/image" and theirs[0]["status"] == 200 and theirs[0]["backend"] == "slow"
    for log in (orchestrator_log, backend_log):
        assert "private" not in log  # neither the file name nor any of its text


def test_backend_token_between_orchestrator_and_backend(tmp_path):
    token = {"BACKEND_TOKEN": "shared-token-42"}
    with slow_stack(tmp_path, backend_env=token, orchestrator_env={**token, "ORCHESTRATOR_API_KEYS": "k1"}) as (
        backend,
        orchestrator,
    ):
        assert ocr(orchestrator.url, headers={"X-API-Key": "k1"}).status_code == 200
        assert ocr(orchestrator.url).status_code == 401
        direct = requests.post(backend.url + "/ocr", files={"file": ("a.png", IMAGE)}, timeout=30)
        assert direct.status_code == 401 and direct.json()["error"]["code"] == "unauthorized"
        assert requests.get(backend.url + "/health", timeout=5).status_code == 401
        assert requests.get(backend.url + "/live", timeout=5).status_code == 200
        assert (
            requests.get(backend.url + "/health", headers={"X-Backend-Token": "shared-token-42"}, timeout=5).json()[
                "model_loaded"
            ]
            is True
        )


def ocr_in_flight(orchestrator_url: str, backend_url: str) -> tuple[threading.Thread, list]:
    """Sends one OCR request from a thread and returns once the backend reports it in flight."""
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(ocr(orchestrator_url)))
    thread.start()
    deadline = time.monotonic() + 30
    while requests.get(backend_url + "/health", timeout=5).json()["in_flight"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return thread, answers


def test_backend_killed_mid_request_then_back_without_orchestrator_restart(tmp_path):
    with slow_stack(tmp_path, backend_env={"STANDIN_DELAY": "30"}) as (backend, orchestrator):
        thread, answers = ocr_in_flight(orchestrator.url, backend.url)
        killed_at = time.monotonic()
        backend.kill()  # SIGKILL to the master and its worker
        thread.join(30)
        took = time.monotonic() - killed_at
        response = answers[0]
        body = response.json()
        assert response.status_code in (502, 503) and body["backend"] == "slow" and "slow" in body["error"]["message"]
        print(f"answered {response.status_code} {took * 1000:.0f} ms after the kill")
        assert took < 3, f"the client waited {took:.1f} s after the backend died"
        assert requests.get(orchestrator.url + "/live", timeout=5).status_code == 200
        assert requests.get(orchestrator.url + "/health", timeout=5).status_code == 200
        assert ocr(orchestrator.url).status_code == 503
        wait_status(orchestrator.url + "/ready", 503)  # no backend healthy (each worker's next health poll)
        again = start_backend("slow", tmp_path, port=backend.port, app=SLOW_APP, env={"STANDIN_DELAY": "0"})
        try:
            wait_healthy(again)
            wait_backend_state(orchestrator.url, "healthy")
            assert ocr(orchestrator.url).status_code == 200
            wait_status(orchestrator.url + "/ready", 200)
        finally:
            again.stop()


def test_graceful_shutdown_finishes_the_request_in_flight(tmp_path):
    with slow_stack(tmp_path, backend_env={"STANDIN_DELAY": "3"}) as (backend, orchestrator):
        thread, answers = ocr_in_flight(orchestrator.url, backend.url)
        orchestrator.process.send_signal(signal.SIGTERM)
        backend.process.send_signal(signal.SIGTERM)
        thread.join(60)
        assert answers and answers[0].status_code == 200 and answers[0].json()["markdown"] == "slow page"
        assert orchestrator.process.wait(30) == 0 and backend.process.wait(30) == 0
