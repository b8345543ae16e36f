"""The service under hostile load, through the standard front (nginx) and the orchestrator's gevent
workers, all real processes on loopback: cheap clients cannot starve it, a hung backend is failed
fast, a busy backend takes a large upload, made-up keys do not get past the rate limit, a foreign
web page cannot submit work, and nginx's own errors are the service's JSON."""

from __future__ import annotations

import io
import os
import random
import re
import signal
import socket
import threading
import time

import pytest
import requests
from PIL import Image

from tests.support.documents import text_image, text_pdf
from tests.support.hostile import ECHO, Crowd, stack
from tests.support.processes import start_backend, wait_healthy, worker_pids

PAGE = text_image(["hostile load"])


def ocr(url: str, backend: str, *, timeout: float = 30, **kwargs) -> requests.Response:
    return requests.post(
        url + "/ocr",
        files={"file": ("page.png", PAGE, "image/png")},
        data={"backend": backend, "cache": "false"},
        timeout=timeout,
        **kwargs,
    )


# -- connections never starve the service ------------------------------------------------------------


def test_streams_slow_headers_and_slow_uploads_do_not_starve_live_or_other_backends(tmp_path):
    with stack(tmp_path, {"echo": {}, "slow": {"ECHO_DELAY_S": "30"}}) as system:
        job = requests.post(
            system.url + "/jobs",
            files={"file": ("page.png", PAGE, "image/png")},
            data={"backend": "slow", "cache": "false"},
            timeout=10,
        ).json()
        crowd = Crowd("127.0.0.1", system.entry.port)
        try:
            crowd.open(job["job_id"], streams=200, slow_headers=100, slow_uploads=50)
            time.sleep(3)  # every connection is open and each stream has had its first events
            assert crowd.served_streams() == 200, "every event stream is being served"
            worst = 0.0
            for _ in range(5):
                started = time.monotonic()
                live = requests.get(system.url + "/live", timeout=5)
                worst = max(worst, time.monotonic() - started)
                assert live.status_code == 200
            assert worst < 1.0, f"/live took {worst:.2f} s with 350 hostile connections open"
            answer = ocr(system.url, "echo", timeout=10)
            assert answer.status_code == 200, answer.text
            assert requests.get(system.url + "/health", timeout=5).status_code == 200
        finally:
            crowd.close()


# -- fail fast -----------------------------------------------------------------------------------------


def test_a_sigstopped_backend_is_503_at_once_and_the_others_are_unaffected(tmp_path):
    with stack(tmp_path, {"echo": {}, "victim": {}}) as system:
        victim = system.backends["victim"]
        pids = [victim.process.pid, *worker_pids(victim.process.pid)]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        caught: dict[str, float | int] = {}

        def in_flight() -> None:  # sent before the monitor noticed: it must not wait out the read timeout
            started = time.monotonic()
            caught["status"] = ocr(system.url, "victim", timeout=30).status_code
            caught["seconds"] = time.monotonic() - started

        waiting = threading.Thread(target=in_flight)
        waiting.start()
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                states = {
                    b["name"]: b["status"] for b in requests.get(system.url + "/backends", timeout=5).json()["backends"]
                }
                if states["victim"] == "unreachable":
                    break
                time.sleep(0.2)
            assert states["victim"] == "unreachable", states
            started = time.monotonic()
            refused = ocr(system.url, "victim", timeout=10)
            took = time.monotonic() - started
            assert refused.status_code == 503 and took < 3, (refused.status_code, took)
            error = refused.json()
            assert error["backend"] == "victim" and error["error"]["code"] == "backend_unavailable"
            assert "victim" in error["error"]["message"] and refused.headers.get("Retry-After")
            assert ocr(system.url, "echo", timeout=10).status_code == 200
            waiting.join(15)
            assert caught.get("status") == 503 and caught["seconds"] < 6, caught
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)


def test_a_backend_back_from_a_hang_drops_the_requests_its_callers_gave_up_on(tmp_path):
    backend = start_backend("echo", tmp_path, app=ECHO, env={"ECHO_CONCURRENCY": "1", "ECHO_DELAY_S": "0.2"})
    try:
        wait_healthy(backend)
        pids = [backend.process.pid, *worker_pids(backend.process.pid)]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        gave_up = 0
        for _ in range(4):  # callers that wait 1 s, as the orchestrator says it waits in X-Request-Timeout
            try:
                requests.post(
                    backend.url + "/ocr",
                    files={"file": ("p.png", PAGE, "image/png")},
                    headers={"X-Request-Timeout": "1"},
                    timeout=1,
                )
            except requests.RequestException:
                gave_up += 1
        assert gave_up == 4
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
        time.sleep(1.5)
        metrics = requests.get(backend.url + "/metrics", timeout=5).text
        dropped = sum(
            float(m.group(1)) for m in re.finditer(r'ocr_rejected_total\{[^}]*reason="abandoned"[^}]*\} (\S+)', metrics)
        )
        assert dropped == 4, metrics[-2000:]
        assert requests.post(backend.url + "/ocr", files={"file": ("p.png", PAGE, "image/png")}, timeout=10).ok
    finally:
        backend.stop()


def test_a_backend_asked_for_more_than_its_threads_refuses_the_rest_and_still_answers_its_probes(tmp_path):
    backend = start_backend(
        "echo", tmp_path, app=ECHO, env={"ECHO_DELAY_S": "4", "ECHO_CONCURRENCY": "1", "BACKEND_THREADS": "4"}
    )
    try:
        wait_healthy(backend)
        statuses: list[int] = []

        def send() -> None:
            answer = requests.post(backend.url + "/ocr", files={"file": ("p.png", PAGE, "image/png")}, timeout=30)
            statuses.append(answer.status_code)

        crowd = [threading.Thread(target=send) for _ in range(8)]
        for thread in crowd:
            thread.start()
        # One runs for 4 s, one waits, the rest are refused at once: no thread is left to them, so
        # every health poll meanwhile is answered at once.
        deadline = time.monotonic() + 3
        while True:
            started = time.monotonic()
            health = requests.get(backend.url + "/health", timeout=5).json()
            assert time.monotonic() - started < 1
            if (health["in_flight"], health["queued"]) == (1, 1) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert (health["in_flight"], health["queued"], health["capacity"]) == (1, 1, 2), health
        for thread in crowd:
            thread.join(30)
        assert sorted(statuses) == [200, 200] + [503] * 6, statuses
    finally:
        backend.stop()


def test_a_large_upload_to_a_busy_backend_waits_for_it_instead_of_failing_as_unreachable(tmp_path):
    # One request runs at a time and takes 4 s; one more may wait (4 threads, 2 kept for probes).
    busy = {"ECHO_DELAY_S": "4", "ECHO_CONCURRENCY": "1", "BACKEND_THREADS": "4"}
    with stack(tmp_path, {"busy": busy}) as system:
        noise = Image.frombytes("RGB", (3800, 3800), random.Random(1).randbytes(3800 * 3800 * 3))
        buffer = io.BytesIO()
        noise.save(buffer, "PNG", compress_level=1)
        large = buffer.getvalue()
        assert len(large) > 40 * 2**20, "the attack's 40 MB upload"
        first = threading.Thread(target=lambda: ocr(system.url, "busy", timeout=30))
        first.start()
        time.sleep(0.5)  # the backend's one work slot is busy for 4 s
        answer = requests.post(
            system.url + "/ocr",
            files={"file": ("large.png", large, "image/png")},
            data={"backend": "busy", "cache": "false"},
            timeout=60,
        )
        first.join(30)
        assert answer.status_code == 200, answer.text[:500]
        # Busy is not hung: its probe threads answered the health polls all along.
        assert "marked down" not in system.orchestrator.log()


# -- who may call ---------------------------------------------------------------------------------------


def test_rotating_made_up_keys_do_not_get_past_the_rate_limit(tmp_path):
    with stack(tmp_path, {"echo": {}}, env={"RATE_LIMIT_PER_MINUTE": "6", "RATE_LIMIT_BURST": "2"}) as system:
        statuses = [ocr(system.url, "echo", headers={"X-API-Key": f"made-up-{n}"}).status_code for n in range(12)]
        assert statuses.count(200) <= 3 and statuses.count(429) >= 9, statuses
        limited = ocr(system.url, "echo", headers={"X-API-Key": "another"})
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
        assert limited.headers.get("Retry-After")
        assert requests.get(system.url + "/live", timeout=5).status_code == 200, "reads are not limited"


def test_a_foreign_web_page_cannot_submit_work_without_a_key(tmp_path):
    with stack(tmp_path, {"echo": {}}) as system:
        refused = ocr(system.url, "echo", headers={"Origin": "http://evil.example"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "cross_site_refused"
        own = ocr(system.url, "echo", headers={"Origin": system.url})
        assert own.status_code == 200, "the orchestrator's own page (served from the same origin) may"
        allowed = ocr(system.url, "echo", headers={"Origin": "http://localhost:3000"})
        assert allowed.status_code == 200, "an origin in CORS_ORIGINS may"
        assert ocr(system.url, "echo").status_code == 200, "curl and scripts send no Origin"


# -- the front's own answers ---------------------------------------------------------------------------


def raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_the_fronts_own_errors_are_the_services_json(tmp_path):
    with stack(
        tmp_path, {"echo": {}}, env={"OCR_MAX_UPLOAD_BYTES": "100000", "OCR_MAX_REFERENCE_CHARS": "1000"}
    ) as system:
        garbage = raw(system.entry.port, b"NOT HTTP AT ALL\r\n\r\n")
        assert garbage.startswith(b"HTTP/1.1 400") and b'"code": "bad_request"' in garbage
        huge_header = raw(system.entry.port, b"GET /live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
        assert huge_header.startswith(b"HTTP/1.1 400") and b'"code": "bad_request"' in huge_header
        too_large = requests.post(
            system.url + "/ocr", files={"file": ("p.png", b"x" * 3_000_000, "image/png")}, timeout=10
        )
        assert too_large.status_code == 413 and too_large.json()["error"]["code"] == "payload_too_large"
        system.orchestrator.stop()
        down = requests.get(system.url + "/health", timeout=10)
        assert down.status_code == 503 and down.json()["error"]["code"] == "orchestrator_unavailable"


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP"])
def test_a_client_cannot_pick_its_address_behind_the_front(tmp_path, header):
    """The rate limit keys on the address the front saw, not on what the client claims."""
    env = {"RATE_LIMIT_PER_MINUTE": "6", "RATE_LIMIT_BURST": "1"}
    with stack(tmp_path, {"echo": {}}, env=env) as system:
        statuses = [ocr(system.url, "echo", headers={header: f"10.0.0.{n}"}).status_code for n in range(5)]
        assert statuses.count(429) >= 3, statuses


# -- recycling ------------------------------------------------------------------------------------------


def test_a_worker_recycled_for_its_work_finishes_its_running_job_first(tmp_path):
    """One worker, recycled after 3 work requests: a 5-page job (1 s a page) running when the limit
    is reached still finishes with every page, and the worker is replaced only afterwards; probes
    and status reads do not count."""
    env = {"ORCHESTRATOR_MAX_REQUESTS": "3", "ORCHESTRATOR_WORKERS": "1"}
    with stack(tmp_path, {"slow": {"ECHO_DELAY_S": "1"}}, env=env) as system:
        worker = worker_pids(system.orchestrator.process.pid)
        for _ in range(30):
            assert requests.get(system.url + "/live", timeout=5).ok
            assert requests.get(system.url + "/backends", timeout=5).ok
        assert worker_pids(system.orchestrator.process.pid) == worker, "reads do not count"
        pdf = text_pdf([[f"page {n}"] for n in range(1, 6)])
        job = requests.post(
            system.url + "/jobs",
            files={"file": ("five.pdf", pdf, "application/pdf")},
            data={"backend": "slow", "cache": "false", "pdf_mode": "ocr"},
            timeout=10,
        ).json()
        for _ in range(2):  # the 2nd and 3rd work requests: the limit is reached while the job runs
            assert ocr(system.url, "slow").status_code == 200
        status = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = requests.get(system.url + f"/jobs/{job['job_id']}", timeout=5).json()
            if status.get("status") in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.3)
        assert status["status"] == "succeeded", status.get("error")
        assert [page["page"] for page in status["pages"]["slow"]] == [1, 2, 3, 4, 5]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and worker_pids(system.orchestrator.process.pid) in ([], worker):
            time.sleep(0.2)
        assert worker_pids(system.orchestrator.process.pid) not in ([], worker), "then the worker was replaced"


def test_a_backend_worker_over_its_memory_limit_is_replaced_and_no_request_fails(tmp_path):
    """BACKEND_MAX_RSS_MB=1: every worker is over it after its first request, so each request is
    served by a fresh worker; none of them is refused or lost while the next one loads."""
    backend = start_backend("echo", tmp_path, app=ECHO, env={"BACKEND_MAX_RSS_MB": "1"})
    try:
        wait_healthy(backend)
        served_by = []
        for _ in range(3):
            before = worker_pids(backend.process.pid)
            answer = requests.post(backend.url + "/ocr", files={"file": ("p.png", PAGE, "image/png")}, timeout=60)
            assert answer.status_code == 200, answer.text
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and worker_pids(backend.process.pid) in ([], before):
                time.sleep(0.1)
            served_by.append(before)
            assert worker_pids(backend.process.pid) not in ([], before), "the worker over its limit was replaced"
        assert "it retires" in backend.log()
    finally:
        backend.stop()
