"""The VLM backend as deployed: the orchestrator, the backend under gunicorn (a dots-ocr instance)
and a model server on loopback that replays dots.ocr's recorded answers (tests/support/vlm_replay.py).
A page comes back in the contract; the model server stopping makes the backend answer 503 naming
itself, and it is ready again when the server is back; a mode outside the preset's is 400 naming
the option; a model server serving another model leaves the backend not ready, with the reason."""

from __future__ import annotations

import io
import time

import pytest
import requests
from PIL import Image, ImageDraw

from tests.support.processes import VLM_APP, backend_behind_orchestrator, start_backend, wait_for_reason, wait_healthy
from tests.support.schema import validate
from tests.support.vlm_replay import Behaviour, ReplayServer, recorded_answer

pytestmark = pytest.mark.integration

NAME = "dots-ocr"
SERVED = "dots-test"


def page_png() -> bytes:
    """A page the size dots_simple.json was recorded on (1224 × 1584), a picture where it has one."""
    image = Image.new("RGB", (1224, 1584), "white")
    ImageDraw.Draw(image).rectangle((100, 100, 600, 400), fill=(30, 30, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def vlm_env(replay: ReplayServer, served: str = SERVED) -> dict[str, str]:
    return {
        "VLM_NAME": NAME,
        "VLM_PRESET": "dots-ocr",
        "VLM_SERVER_URL": replay.url,
        "VLM_SERVED_MODEL": served,
        "VLM_HEALTH_INTERVAL": "0.2",
        "VLM_STARTUP_WAIT": "5",
    }


@pytest.fixture(scope="module")
def replay():
    server = ReplayServer(Behaviour(served=[SERVED], answer=recorded_answer("dots-ocr", "dots_simple.json")))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def vlm_system(replay, tmp_path_factory):
    logs = tmp_path_factory.mktemp("vlm-logs")
    with backend_behind_orchestrator(NAME, logs, env=vlm_env(replay), app=VLM_APP) as (backend, orchestrator):
        yield backend, orchestrator


def ready(url: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    health: dict = {}
    while time.monotonic() < deadline:
        health = requests.get(url + "/health", timeout=5).json()
        if health["model_loaded"]:
            return health
        time.sleep(0.1)
    raise AssertionError(f"not ready: {health}")


def ocr(url: str, **form: str) -> requests.Response:
    return requests.post(
        url + "/ocr",
        files={"file": ("page.png", page_png())},
        data={"backend": NAME, "cache": "false", **form},
        timeout=60,
    )


def test_a_page_through_the_orchestrator_is_in_the_contract(vlm_system, replay):
    backend, orchestrator = vlm_system
    health = ready(backend.url)
    validate(health, "backend_health")
    assert health["backend"] == NAME and health["preset"] == "dots-ocr" and health["served_model"] == SERVED
    response = ocr(orchestrator.url)
    body = response.json()
    assert response.status_code == 200, body
    validate(body)
    assert body["backend"] == NAME and body["model"] == f"{SERVED} (VLM preset dots-ocr)"
    assert body["options"]["mode"] == "layout-all"
    page = body["pages"][0]
    assert "DocLayNet: A Large Human-Annotated Dataset" in body["markdown"]
    assert page["blocks"] and all(0 <= b["bbox"][2] <= 1224 and 0 <= b["bbox"][3] <= 1584 for b in page["blocks"])
    assert body["raw_result"]["vlm"]["pages"][0]["text"] == replay.behaviour.answer
    assert replay.requests[-1]["model"] == SERVED


def test_a_mode_outside_the_presets_is_400_naming_the_option(vlm_system):
    backend, orchestrator = vlm_system
    ready(backend.url)
    for url in (backend.url, orchestrator.url):
        response = ocr(url, mode="gundam")
        body = response.json()
        validate(body)
        assert response.status_code == 400 and body["error"]["code"] == "invalid_option", body
        assert "'mode'" in body["error"]["message"] and "layout-all" in body["error"]["message"]


def test_a_stopped_model_server_is_503_naming_the_backend_until_it_is_back(vlm_system, replay):
    backend, orchestrator = vlm_system
    ready(backend.url)
    replay.stop()
    try:
        started = time.monotonic()
        response = ocr(orchestrator.url)
        body = response.json()
        validate(body)
        assert response.status_code == 503 and body["backend"] == NAME, body
        assert f"{NAME} model is not loaded" in body["error"]["message"]
        assert "does not answer" in body["error"]["message"]
        assert time.monotonic() - started < 10
        health = wait_for_reason(backend.url)
        assert health["model_loaded"] is False and "does not answer" in health["reason"]
    finally:
        replay.start()
    ready(backend.url)
    assert ocr(orchestrator.url).status_code == 200


def test_a_model_server_serving_another_model_leaves_the_backend_not_ready(replay, tmp_path):
    backend = start_backend(NAME, tmp_path, env=vlm_env(replay, served="not-served"), app=VLM_APP)
    try:
        wait_healthy(backend, need_model=False)
        health = wait_for_reason(backend.url)
        validate(health, "backend_health")
        assert health["model_loaded"] is False and health["status"] != "healthy"
        assert f"serves ['{SERVED}'], not 'not-served' (VLM_SERVED_MODEL)" in health["reason"]
        response = ocr(backend.url)
        assert response.status_code == 503 and "not-served" in response.json()["error"]["message"]
    finally:
        backend.stop()
