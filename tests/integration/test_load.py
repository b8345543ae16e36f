"""A bounded load test on loopback: 2,000 requests from 32 concurrent clients, small images, through
the orchestrator to the real rapidocr backend (or its result cache), with the orchestrator's bound
below the client count.

Checked: every answer is a 200 or, only while more requests than the bound were outstanding, a 503
``overloaded`` with ``Retry-After``; the metrics count exactly what the clients saw; after the run no
more open files, temp files or threads than after the warm-up, and resident memory within 10% of it.
Sockets come and go with keep-alive (each side closes idle connections after its timeout), so they
are held to the connection slots the configuration allows instead: a socket leaked per request
would pass that within a few dozen requests.
It stops by itself (a fixed number of requests); timing is not asserted (see ``bench/load.py``).
"""

import time

import pytest
import requests

from deployment.plan import BACKEND_ENVIRONMENT
from shared.backend_threads import PROBE_THREADS
from tests.support.documents import text_image
from tests.support.load import files_under, process_figures, run_load
from tests.support.metrics import value
from tests.support.processes import free_ports, start_backend, start_orchestrator, wait_healthy, worker_pids

TOTAL, CLIENTS, BOUND = 2000, 32, 28
# Warm-up rounds run until open files and threads stop changing from one round to the next: every
# worker thread has then made its own database connection.
WARM_UP_ROUND, WARM_UP_ROUNDS = 100, 8
BACKOFF = 0.5  # a refused client waits this long (its Retry-After, scaled down for a test)
# One request in four is OCR'd by rapidocr (about 500 in the run), the others are answered from the
# result cache (the same document again): a mix that keeps the run to a minute or two on a busy
# 2-core machine while both processes see hundreds of requests.
FIELDS = [{"backend": "rapidocr", "cache": "false", "boxes_image": "false"}] + [
    {"backend": "rapidocr", "boxes_image": "false"}
] * 3
IMAGE = text_image(["ab12"], width=64, font_size=14, margin=4)  # 64x34 px: ~40 ms of rapidocr


def figures(service):
    (worker,) = worker_pids(service.process.pid)
    return process_figures(worker)


@pytest.mark.load
def test_bounded_load_without_leaks(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    common = {"TMPDIR": str(temp)}
    backend_port, orchestrator_port = free_ports(2)
    backend_env = {
        **common,
        "METRICS_DIR": str(tmp_path / "metrics-backend"),
        # Room for every request the orchestrator lets through, besides the threads kept for probes.
        "BACKEND_THREADS": str(BOUND + PROBE_THREADS),
        # As deployed (two malloc arenas): with glibc's default of one per thread, 30 threads' engine
        # buffers stay spread over many arenas and the worker grows without any leak (bench/soak.py).
        **BACKEND_ENVIRONMENT,
    }
    backend = start_backend("rapidocr", tmp_path, port=backend_port, env=backend_env)
    orchestrator = start_orchestrator(
        {"rapidocr": backend.url},
        tmp_path,
        port=orchestrator_port,
        env={
            **common,
            "METRICS_DIR": str(tmp_path / "metrics-orchestrator"),
            "ORCHESTRATOR_WORKERS": "1",
            "ORCHESTRATOR_THREADS": str(CLIENTS),
            "BACKEND_MAX_PENDING": f"rapidocr={BOUND}",
            "RETRY_AFTER": "1",
            "ORCHESTRATOR_MAX_REQUESTS": "0",
        },
    )
    sessions = [requests.Session() for _ in range(CLIENTS)]
    try:
        wait_healthy(backend)
        wait_healthy(orchestrator, need_model=False)
        url = orchestrator.url + "/ocr"
        warm_ok = warm_refused = 0
        settled: dict = {}
        for _ in range(WARM_UP_ROUNDS):
            warm = run_load(
                url,
                IMAGE,
                total=WARM_UP_ROUND,
                clients=CLIENTS,
                bound=BOUND,
                fields=FIELDS,
                sessions=sessions,
                backoff=BACKOFF,
            )
            assert not warm.unintended, warm.unintended[:5]
            warm_ok, warm_refused = warm_ok + warm.statuses[200], warm_refused + warm.statuses[503]
            time.sleep(1)
            now = {name: figures(service) for name, service in (("orchestrator", orchestrator), ("backend", backend))}
            steady = settled and all(
                now[n]["files"] == settled[n]["files"] and now[n]["threads"] == settled[n]["threads"] for n in now
            )
            settled = now
            if steady:
                break
        workers_before = [worker_pids(orchestrator.process.pid), worker_pids(backend.process.pid)]
        temp_files = files_under(temp)  # what the libraries made at start (none of ours: uploads stay in memory)

        result = run_load(
            url, IMAGE, total=TOTAL, clients=CLIENTS, bound=BOUND, fields=FIELDS, sessions=sessions, backoff=BACKOFF
        )
        time.sleep(1)
        after = {"orchestrator": figures(orchestrator), "backend": figures(backend)}
        metrics = requests.get(orchestrator.url + "/metrics", timeout=10).text
        workers_after = [worker_pids(orchestrator.process.pid), worker_pids(backend.process.pid)]
    finally:
        for session in sessions:
            session.close()
        orchestrator.stop()
        backend.stop()

    print(
        f"load: {dict(result.statuses)} in {result.seconds:.1f} s ({result.resent} resent); "
        f"settled {settled}; after {after}"
    )
    assert result.resent <= 10, f"{result.resent} kept-alive connections dropped: more than the rare race"
    assert workers_after == workers_before, "a worker died or was replaced under load"
    assert sum(result.statuses.values()) == TOTAL
    assert not result.unintended, result.unintended[:5]
    assert set(result.statuses) <= {200, 503} and result.statuses[200] > 0
    # The service's own count agrees with the clients' (warm-up included).
    assert value(metrics, "ocr_requests_total", endpoint="/ocr", status="200") == result.statuses[200] + warm_ok
    assert value(metrics, "ocr_rejected_total", reason="queue_full") == result.statuses[503] + warm_refused
    # Listening sockets and a few spare, the clients' connections to the orchestrator, and one kept-alive
    # connection per orchestrator thread to the backend.
    socket_slots = {"orchestrator": 8 + CLIENTS + CLIENTS, "backend": 8 + CLIENTS}
    # gunicorn's thread pool adds a thread only when every one it has is busy: the warm-up fills the
    # ones requests use (the bound), a probe thread may first be needed later, when a health poll
    # lands while all of those are busy. Never more than the pool's size.
    thread_slack = {"orchestrator": 0, "backend": PROBE_THREADS}
    for name in ("orchestrator", "backend"):
        before, now = settled[name], after[name]
        assert now["files"] <= before["files"], f"{name} open files grew: {before} -> {now}"
        assert now["sockets"] <= socket_slots[name], f"{name} holds {now['sockets']} sockets: {now}"
        assert now["threads"] <= before["threads"] + thread_slack[name], f"{name} threads grew: {before} -> {now}"
        assert now["rss_kib"] <= before["rss_kib"] * 1.10, f"{name} memory grew over 10%: {before} -> {now}"
    assert files_under(temp) == temp_files
