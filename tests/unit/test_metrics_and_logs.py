"""Metrics (in one process: the multi-worker sum is an integration test) and the JSON request logs."""

import json
import logging
import sys
import types

from orchestrator import create_app
from orchestrator.config import OrchestratorConfig
from shared.backend_server import BackendServerConfig, create_backend_app
from shared.metrics import UNKNOWN, metric_backend
from shared.request_log import ACCESS_LOGGER, JsonFormatter
from tests.support import standin_http
from tests.support.client import post_file
from tests.support.documents import text_image
from tests.support.metrics import names, value
from tests.support.processes import UNREACHABLE_URL
from tests.unit.test_backend_server import StandInBackend

IMAGE = text_image(["secret words"], width=300)


def backend_app(backend=None):
    backend = backend or StandInBackend()
    return create_backend_app(backend, BackendServerConfig(background_load=False)).test_client()


def scrape(client):
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    return response.get_data(as_text=True)


def test_backend_counters_move_by_exactly_the_requests_made():
    client = backend_app()
    before = scrape(client)
    for _ in range(5):
        assert post_file(client, IMAGE, "/ocr", "a.png").status_code == 200
    for _ in range(3):
        assert post_file(client, b"plain text", "/ocr", "a.txt").status_code == 415
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    ok = {"service": "backend", "backend": "stand-in", "endpoint": "/ocr"}
    assert delta("ocr_requests_total", status="200", **ok) == 5
    assert delta("ocr_requests_total", status="415", **ok) == 3
    assert delta("ocr_errors_total", backend="stand-in", code="unsupported_media_type") == 3
    assert delta("ocr_request_duration_seconds_count", **ok) == 8
    assert delta("ocr_stage_duration_seconds_count", backend="stand-in", stage="inference") == 5
    assert delta("ocr_stage_duration_seconds_count", backend="stand-in", stage="total") == 5
    assert value(after, "ocr_in_flight", backend="stand-in") == 0
    assert value(after, "ocr_queued", backend="stand-in") == 0
    assert value(after, "ocr_model_loaded", backend="stand-in") == 1
    assert "ocr_model_load_seconds" in names(after)
    assert "ocr_gpu_memory_allocated_bytes" not in names(after)  # no torch, no GPU: absent


def test_gpu_memory_gauge_when_torch_sees_a_gpu(monkeypatch):
    cuda = types.SimpleNamespace(is_available=lambda: True, device_count=lambda: 1, memory_allocated=lambda i: 123456)
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    text = scrape(backend_app())
    assert value(text, "ocr_gpu_memory_allocated_bytes", backend="stand-in", device="0") == 123456


def test_label_values_stay_bounded():
    known = ["rapidocr", "mineru"]
    assert metric_backend("rapidocr", known) == "rapidocr"
    assert metric_backend("rapidocr,mineru", known) == "multiple"
    assert metric_backend("../../etc/passwd", known) == UNKNOWN
    assert metric_backend(None, known) == "-"


def test_orchestrator_metrics_jobs_cache_health(tmp_path):
    server = standin_http.serve("delayed", delay=0)
    try:
        config = OrchestratorConfig(
            backends={"delayed": [f"http://127.0.0.1:{server.server_port}"], "down": [UNREACHABLE_URL]},
            default_backend="delayed",
            data_dir=tmp_path,
        )
        app = create_app(config, monitor=False)
        app.extensions["ocr_orchestrator"].registry.check_all()
        client = app.test_client()
        before = scrape(client)
        for _ in range(3):  # a miss, then two hits
            assert post_file(client, IMAGE, "/ocr", "a.png").status_code == 200
        assert post_file(client, IMAGE, "/ocr", "a.png", backend="nope").status_code == 400
        assert post_file(client, IMAGE, "/ocr", "a.png", backend="down").status_code == 503
        after = scrape(client)
    finally:
        server.shutdown()

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("ocr_cache_lookups_total", result="miss") == 1 and delta("ocr_cache_lookups_total", result="hit") == 2
    assert delta("ocr_requests_total", service="orchestrator", backend="delayed", endpoint="/ocr", status="200") == 3
    assert delta("ocr_errors_total", service="orchestrator", backend=UNKNOWN, code="unknown_backend") == 1
    assert delta("ocr_errors_total", service="orchestrator", backend="down", code="backend_unavailable") == 1
    assert (
        delta("ocr_stage_duration_seconds_count", service="orchestrator", backend="delayed", stage="backend_call") == 1
    )
    assert value(after, "ocr_backend_healthy", backend="delayed") == 1
    assert value(after, "ocr_backend_healthy", backend="down") == 0
    assert value(after, "ocr_backend_state", backend="down", state="unreachable") == 1
    assert {"ocr_jobs", "ocr_cache_bytes", "ocr_in_flight"} <= names(after)


def test_one_json_access_line_per_request_without_document_content(caplog):
    client = backend_app()
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        post_file(client, IMAGE, "/ocr", "private-name.png")
        client.get("/health")  # probes and scrapes are not logged line by line
    lines = [record for record in caplog.records if record.name == ACCESS_LOGGER]
    assert len(lines) == 1
    entry = json.loads(JsonFormatter("stand-in").format(lines[0]))
    assert entry["event"] == "request" and entry["status"] == 200 and entry["backend"] == "stand-in"
    assert entry["endpoint"] == "/ocr" and entry["bytes_in"] > len(IMAGE) and entry["bytes_out"] > 0
    assert entry["duration_ms"] >= 0 and len(entry["request_id"]) == 32 and entry["service"] == "stand-in"
    text = json.dumps(entry)
    assert "secret" not in text and "private-name" not in text
