"""Bounded waiting: beyond the bound a request gets 503 ``overloaded`` with ``Retry-After`` at once,
on a backend (its work gate), on the orchestrator (per backend) and for jobs; ``/ready`` says so."""

import threading
import time

import pytest

from orchestrator import create_app
from orchestrator.config import OrchestratorConfig
from shared.backend_server import BackendServerConfig, create_backend_app
from shared.errors import Overloaded
from shared.work_gate import WorkGate
from tests.support import standin_http
from tests.support.client import post_file
from tests.support.documents import text_image
from tests.unit.test_backend_server import StandInBackend

IMAGE = text_image(["x"], width=200)


def wait_until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def in_background(call):
    results = []
    thread = threading.Thread(target=lambda: results.append(call()))
    thread.start()
    return thread, results


def test_gate_refuses_beyond_running_plus_queue():
    gate = WorkGate(1, max_queue=1, name="g", retry_after=3)
    release = threading.Event()

    def hold():
        with gate.slot():
            release.wait(10)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for thread in threads:
        thread.start()
    wait_until(lambda: gate.counts() == (1, 1))
    assert gate.full()
    with pytest.raises(Overloaded) as refused, gate.slot():
        pass
    assert refused.value.retry_after == 3 and refused.value.status == 503
    release.set()
    for thread in threads:
        thread.join()
    assert gate.counts() == (0, 0) and not gate.full()


def test_a_request_between_waiting_and_running_still_counts_against_the_bound():
    """The moment a waiter takes its slot (here: while its caller is asked whether it left) it is
    still held: a newcomer then is refused, not let in past the bound (CI saw 1 running and 2
    waiting on a gate of 2)."""
    gate = WorkGate(1, max_queue=0, name="g")
    taking, go_on = threading.Event(), threading.Event()

    def still_there() -> None:
        taking.set()
        go_on.wait(10)

    def hold():
        with gate.slot(abandoned=still_there):
            pass

    holder = threading.Thread(target=hold)
    holder.start()
    assert taking.wait(10)
    newcomer, outcome = in_background(lambda: _try_slot(gate))
    newcomer.join(2)
    go_on.set()
    holder.join(10)
    newcomer.join(10)
    assert outcome == ["refused"]


def _try_slot(gate: WorkGate) -> str:
    try:
        with gate.slot():
            return "admitted"
    except Overloaded:
        return "refused"


def test_backend_queue_bound_503_with_retry_after_and_not_ready():
    backend = StandInBackend(delay=1.5)
    app = create_backend_app(backend, BackendServerConfig(background_load=False, max_queue=1, retry_after=7))
    client = app.test_client()
    gate = app.extensions["ocr_backend"].gate
    assert client.get("/ready").status_code == 200
    running = [in_background(lambda: post_file(client, IMAGE, "/ocr", "a.png")) for _ in range(2)]
    wait_until(lambda: gate.counts() == (1, 1))
    refused = post_file(client, IMAGE, "/ocr", "a.png")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "7"
    assert refused.get_json()["error"]["code"] == "overloaded" and refused.get_json()["error"]["retryable"]
    not_ready = client.get("/ready")
    assert not_ready.status_code == 503 and "overloaded" in not_ready.get_json()["reasons"][0]
    assert client.get("/live").status_code == 200
    for thread, results in running:
        thread.join()
        assert results[0].status_code == 200  # those within the bound were served
    assert client.get("/ready").status_code == 200


def test_backend_not_ready_until_the_model_is_loaded():
    backend = StandInBackend(fail_load="no weights here")
    client = create_backend_app(backend, BackendServerConfig(background_load=False)).test_client()
    answer = client.get("/ready")
    assert answer.status_code == 503 and "no weights here" in answer.get_json()["reasons"][0]
    assert client.get("/live").status_code == 200


@pytest.fixture
def slow_backend():
    server = standin_http.serve("delayed", delay=1.5)
    yield server
    server.shutdown()


def slow_orchestrator(tmp_path, server, **settings):
    config = OrchestratorConfig(
        backends={"delayed": [f"http://127.0.0.1:{server.server_port}"]},
        default_backend="delayed",
        data_dir=tmp_path,
        **settings,
    )
    return create_app(config, monitor=False)


def test_orchestrator_bounds_waiting_requests_per_backend(tmp_path, slow_backend):
    app = slow_orchestrator(tmp_path, slow_backend, max_pending={"delayed": 1}, retry_after=4)
    client = app.test_client()
    admission = app.extensions["ocr_orchestrator"].admission
    first = in_background(lambda: post_file(client, IMAGE, "/ocr", "a.png", cache="false"))
    wait_until(lambda: admission.full("delayed"))
    for path, fields in (("/ocr", {}), ("/ocr/compare", {"backends": "delayed"})):
        refused = post_file(client, IMAGE, path, "a.png", cache="false", **fields)
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "4"
        body = refused.get_json()
        assert body["error"]["code"] == "overloaded" and body["backend"] == "delayed"
    first[0].join()
    assert first[1][0].status_code == 200
    assert slow_backend.hits == 1  # refused requests never reached the backend
    assert post_file(client, IMAGE, "/ocr", "a.png", cache="false").status_code == 200


def test_job_queue_is_bounded(tmp_path, slow_backend):
    app = slow_orchestrator(tmp_path, slow_backend, job_queue_max=1, retry_after=9)
    client = app.test_client()
    accepted = post_file(client, IMAGE, "/jobs", "a.png", cache="false")
    assert accepted.status_code == 202
    refused = post_file(client, IMAGE, "/jobs", "a.png", cache="false")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "9"
    assert refused.get_json()["error"]["code"] == "overloaded"
    assert "job queue" in client.get("/ready").get_json()["reasons"][-1]
    job_url = accepted.get_json()["status_url"]
    wait_until(lambda: client.get(job_url).get_json()["status"] == "succeeded")
    wait_until(lambda: app.extensions["ocr_jobs"].pending() == 0)
    assert post_file(client, IMAGE, "/jobs/compare", "a.png", backends="delayed", cache="false").status_code == 202


def test_a_busy_backend_503_reaches_the_client_with_retry_after(tmp_path):
    backend = standin_http.serve_wsgi(
        create_backend_app(StandInBackend(delay=2.0), BackendServerConfig(background_load=False, max_queue=0))
    )
    try:
        config = OrchestratorConfig(
            backends={"rapidocr": [f"http://127.0.0.1:{backend.port}"]}, data_dir=tmp_path, retry_after=6
        )
        client = create_app(config, monitor=False).test_client()
        both = [in_background(lambda: post_file(client, IMAGE, "/ocr", "a.png", cache="false")) for _ in range(2)]
        answers = []
        for thread, results in both:
            thread.join()
            answers += results
        busy = [a for a in answers if a.status_code == 503]
        assert sorted(a.status_code for a in answers) == [200, 503]  # the backend runs one, queues none
        assert (
            busy[0].get_json()["error"]["code"] == "overloaded" and busy[0].get_json()["backend"] == "stand-in"
        )  # the backend's own answer, passed on
        assert busy[0].headers["Retry-After"] == "6"
    finally:
        backend.shutdown()


def test_requests_never_take_the_threads_kept_for_probes():
    from shared.backend_threads import PROBE_THREADS, work_bounds
    from shared.config import ConfigError

    assert PROBE_THREADS >= 1
    assert work_bounds(16, 1, 32) == (1, 16 - PROBE_THREADS - 1), "the queue is cut to the threads left"
    assert work_bounds(16, 1, 4) == (1, 4), "a smaller configured queue stays"
    assert work_bounds(16, 32, 32) == (16 - PROBE_THREADS, 0), "so is concurrency"
    with pytest.raises(ConfigError, match="BACKEND_THREADS"):
        work_bounds(PROBE_THREADS, 1, 0)
    app = create_backend_app(StandInBackend(), BackendServerConfig(threads=8, max_queue=32), load=False)
    health = app.test_client().get("/health").get_json()
    assert health["capacity"] == 8 - PROBE_THREADS, health
