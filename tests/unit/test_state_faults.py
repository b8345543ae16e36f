"""Synchronous OCR never needs the database: with it unusable ``/ocr`` and ``/ocr/compare`` answer
200 (cache skipped and counted), ``POST /jobs`` is 503 ``state_unavailable``, ``/ready`` says why,
and all comes back once the file can be made again."""

import time

import pytest

from orchestrator import create_app
from orchestrator.config import OrchestratorConfig
from orchestrator.services import DATABASE_FILE
from tests.support import standin_http
from tests.support.client import post_file
from tests.support.documents import text_image
from tests.support.metrics import value

IMAGE = text_image(["x"], width=200)


@pytest.fixture
def backend():
    server = standin_http.serve("delayed", delay=0.01)
    yield server
    server.shutdown()


def test_sync_ocr_without_the_database_and_recovery(tmp_path, backend):
    config = OrchestratorConfig(
        backends={"delayed": [f"http://127.0.0.1:{backend.server_port}"]},
        default_backend="delayed",
        data_dir=tmp_path,
        data_min_free_bytes=0,
    )
    app = create_app(config, monitor=False)
    svc = app.extensions["ocr_orchestrator"]
    svc.registry.check_all()  # the fingerprint: results are cacheable
    http = app.test_client()
    assert post_file(http, IMAGE, "/ocr", "a.png").headers["X-Cache"] == "miss"
    assert post_file(http, IMAGE, "/ocr", "a.png").headers["X-Cache"] == "hit"

    path = tmp_path / DATABASE_FILE
    path.unlink()
    path.mkdir()  # no database can be opened there
    svc.maintenance.run_once()
    for route, fields in (("/ocr", {}), ("/ocr/compare", {"backends": "delayed"})):
        answer = post_file(http, IMAGE, route, "b.png", **fields)
        assert answer.status_code == 200, answer.get_json()
    refused = post_file(http, IMAGE, "/jobs", "a.png")
    assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "state_unavailable"
    ready = http.get("/ready")
    assert ready.status_code == 503 and any(r.startswith("database:") for r in ready.get_json()["reasons"])
    metrics = http.get("/metrics")
    assert metrics.status_code == 200
    assert value(metrics.text, "ocr_cache_failures_total") >= 2 and value(metrics.text, "ocr_state_writable") == 0

    path.rmdir()
    time.sleep(1.1)  # past the reopen back-off
    svc.maintenance.run_once()
    assert not any(r.startswith("database:") for r in http.get("/ready").get_json()["reasons"])
    assert post_file(http, IMAGE, "/jobs", "a.png").status_code == 202
