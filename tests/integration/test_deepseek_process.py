"""The real DeepSeek-OCR backend process under gunicorn, as CI has it: no weights, no vLLM, no GPU.
It must start, say why the model is not there, and answer OCR requests with 503 and that reason,
directly and through the orchestrator (which names the backend and never falls back)."""

from __future__ import annotations

import pytest
import requests

from tests.support.documents import text_image
from tests.support.processes import backend_behind_orchestrator, wait_for_reason
from tests.support.schema import validate

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def deepseek_system(tmp_path_factory):
    logs = tmp_path_factory.mktemp("deepseek-logs")
    missing = tmp_path_factory.mktemp("models") / "DeepSeek-OCR"
    with backend_behind_orchestrator(
        "deepseek-ocr", logs, env={"DEEPSEEK_MODEL": str(missing), "DEEPSEEK_GPU": "3"}
    ) as (backend, orchestrator):
        yield backend, orchestrator, missing


def test_health_says_why_the_model_is_not_loaded(deepseek_system):
    backend, _, missing = deepseek_system
    health = wait_for_reason(backend.url)
    validate(health, "backend_health")
    assert health["backend"] == "deepseek-ocr" and health["model_loaded"] is False
    assert health["status"] == "unavailable" and health["gpu"] == "3" and health["engine"] == "vllm"
    assert health["cuda_visible_devices"] == "3"  # applied by wsgi.py before anything imports torch
    assert f"DEEPSEEK_MODEL={str(missing)!r} is not a directory" in health["reason"]
    assert "vllm is not installed" in health["reason"]


@pytest.mark.parametrize("via", ["backend", "orchestrator"])
def test_ocr_is_503_with_the_reason(deepseek_system, via):
    backend, orchestrator, _ = deepseek_system
    wait_for_reason(backend.url)
    url = backend.url if via == "backend" else orchestrator.url
    response = requests.post(
        url + "/ocr", files={"file": ("page.png", text_image(["Hello"]))}, data={"backend": "deepseek-ocr"}, timeout=30
    )
    body = response.json()
    validate(body)
    assert response.status_code == 503 and body["backend"] == "deepseek-ocr", body
    assert "DeepSeek-OCR weights not found" in body["error"]["message"]
    assert body["error"]["retryable"] is True
    assert requests.get(backend.url + "/health", timeout=5).status_code == 200  # still serving


def test_health_publishes_the_options_and_the_orchestrator_carries_them(deepseek_system):
    backend, orchestrator, _ = deepseek_system
    published = wait_for_reason(backend.url)["options"]
    assert [option["name"] for option in published] == ["mode", "prompt", "phrase", "max_tokens"]
    assert published[0]["enum"][0] == "document" and published[3]["maximum"] == 8192
    listing = requests.get(orchestrator.url + "/backends?refresh=1", timeout=30).json()
    validate(listing, "backends_list")
    [status] = [b for b in listing["backends"] if b["name"] == "deepseek-ocr"]
    assert status["options"] == published  # known while the model is not loaded


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"tier": "flash"}, "option 'tier' is not accepted by backend 'deepseek-ocr'"),
        ({"mode": "poem"}, "option 'mode' of backend 'deepseek-ocr' must be one of document, ocr"),
        ({"max_tokens": "9"}, "option 'max_tokens' of backend 'deepseek-ocr' must be between 16 and 8192, got 9"),
    ],
)
def test_an_option_outside_the_schema_is_400_from_the_orchestrator_without_reaching_the_backend(
    deepseek_system, fields, message
):
    backend, orchestrator, _ = deepseek_system
    wait_for_reason(backend.url)
    requests.get(orchestrator.url + "/backends?refresh=1", timeout=30)
    rid = f"options-{next(iter(fields))}"
    response = requests.post(
        orchestrator.url + "/ocr",
        files={"file": ("page.png", text_image(["Hello"]))},
        data={"backend": "deepseek-ocr", **fields},
        headers={"X-Request-ID": rid},
        timeout=30,
    )
    body = response.json()
    validate(body)
    assert response.status_code == 400 and body["error"]["code"] == "invalid_option", body
    assert message in body["error"]["message"]
    assert rid not in backend.log()  # refused before the backend was called (it would be a 503 there)
    direct = requests.post(
        backend.url + "/ocr", files={"file": ("page.png", text_image(["Hello"]))}, data=fields, timeout=30
    )
    assert direct.status_code == 400 and message in direct.json()["error"]["message"]  # the same from the backend
