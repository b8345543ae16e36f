"""The real MinerU backend process under gunicorn, as CI has it: mineru installed, no models, no GPU.
It must start, give MinerU's reason (missing files, download command) in /health, and answer OCR
requests with 503 and that reason, directly and through the orchestrator (which names the backend)."""

from __future__ import annotations

import pytest
import requests

from tests.support.documents import text_image, text_pdf
from tests.support.processes import backend_behind_orchestrator, wait_for_reason
from tests.support.schema import validate

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def mineru_system(tmp_path_factory):
    logs = tmp_path_factory.mktemp("mineru-logs")
    base = tmp_path_factory.mktemp("mineru")
    for name in ("models", "home", "uploads"):
        (base / name).mkdir()
    env = {
        "MINERU_MODEL_BASE_DIR": str(base / "models"),
        "MINERU_HOME": str(base / "home"),
        "MINERU_TMP_DIR": str(base / "uploads"),
        "MINERU_GPU": "0",
        "HF_HUB_OFFLINE": "1",
    }
    with backend_behind_orchestrator("mineru", logs, env=env, app="backends.mineru_backend.wsgi:app") as services:
        yield (*services, base)


def test_health_gives_minerus_reason(mineru_system):
    backend, _, base = mineru_system
    health = wait_for_reason(backend.url)
    validate(health, "backend_health")
    assert health["backend"] == "mineru" and health["model_loaded"] is False and health["status"] == "unavailable"
    assert (
        f"Model repo MinerU-4_models_onnx is not ready under {base / 'models' / 'MinerU-4_models_onnx'}"
        in health["reason"]
    )
    assert health["reason"].endswith("Run: mineru-kit models download --tier standard")
    assert health["tiers_ready"] == {"flash": False, "basic": False, "standard": False, "advanced": False}
    assert health["model_dir"] == str(base / "models")


@pytest.mark.parametrize("via, document", [("backend", "image"), ("orchestrator", "image"), ("orchestrator", "pdf")])
def test_ocr_is_503_with_the_reason(mineru_system, via, document):
    backend, orchestrator, base = mineru_system
    reason = wait_for_reason(backend.url)["reason"]
    url = backend.url if via == "backend" else orchestrator.url
    upload = ("page.png", text_image(["Hello"])) if document == "image" else ("doc.pdf", text_pdf([["a"], ["b"]]))
    response = requests.post(
        url + "/ocr", files={"file": upload}, data={"backend": "mineru", "tier": "basic"}, timeout=60
    )
    body = response.json()
    validate(body)
    assert response.status_code == 503 and body["backend"] == "mineru", body
    assert body["error"]["message"] == f"mineru model is not loaded: {reason}"
    assert body["error"]["retryable"] is True
    assert list((base / "uploads").iterdir()) == []
    assert requests.get(backend.url + "/health", timeout=5).status_code == 200  # still serving
