"""What decides whether the vLLM engine survives a real GPU server: CUDA-safe start-up, health from
the engine (a dead engine core, a ``vllm serve`` that stops answering), GPU memory read where the
model lives, and the n-gram rule of each model. Against the library stand-ins (no GPU here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import Flask, jsonify
from werkzeug.serving import make_server

from backends.deepseek_ocr.backend import DeepSeekOCRBackend, create_backend
from backends.deepseek_ocr.config import DeepSeekConfig
from backends.deepseek_ocr.engines import preflight, vllm_engine
from backends.deepseek_ocr.engines.openai_engine import OpenAIEngine
from backends.deepseek_ocr.engines.vllm_engine import VLLMEngine
from shared.backend_server import BackendServerConfig, create_backend_app
from tests.support import library_standins as standins
from tests.support.client import post_file
from tests.support.deepseek import fake_weights
from tests.support.documents import text_image
from tests.support.schema import validate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def libraries(monkeypatch):
    yield lambda modules: standins.install(monkeypatch, modules)
    preflight.cuda_available.cache_clear()


def wait_until(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


# -- 1. CUDA-safe start-up ------------------------------------------------------------------------


def test_the_preflight_does_not_initialise_cuda_before_the_engine_core_starts(tmp_path, libraries):
    torch = standins.torch_module()
    libraries({**standins.vllm_modules(), "torch": torch})
    backend = DeepSeekOCRBackend(DeepSeekConfig(model=str(fake_weights(tmp_path / "w"))))
    client = create_backend_app(backend, BackendServerConfig(background_load=False), load=False).test_client()
    assert client.get("/health").get_json()["gpu_available"] is True  # the /health preflight, before the load
    backend.start()
    try:
        assert backend.loaded, backend.load_error
        core = standins.FakeAsyncLLM.created[0]
        assert core.driver_inits_before_start == 0, "CUDA was initialised in the worker before vLLM forked"
        assert core.child_environment["PYTORCH_NVML_BASED_CUDA_CHECK"] == "1"
        assert core.child_environment["VLLM_WORKER_MULTIPROC_METHOD"] == "spawn"
        client.get("/health")
        assert torch.cuda.driver_inits == 0
    finally:
        backend.engine.close()


def test_wsgi_sets_the_cuda_safe_environment_before_anything_imports_torch(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("PYTORCH_NVML_BASED_CUDA_CHECK",)}
    env.update(DEEPSEEK_MODEL=str(tmp_path / "none"), DEEPSEEK_GPU="2", VLLM_WORKER_MULTIPROC_METHOD="fork")
    code = (
        "import json, os, sys; import backends.deepseek_ocr.wsgi; "
        "print(json.dumps({k: os.environ.get(k) for k in ('PYTORCH_NVML_BASED_CUDA_CHECK', "
        "'VLLM_WORKER_MULTIPROC_METHOD', 'CUDA_VISIBLE_DEVICES', 'CUDA_DEVICE_ORDER')} "
        "| {'torch': 'torch' in sys.modules}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {
        "PYTORCH_NVML_BASED_CUDA_CHECK": "1",
        "VLLM_WORKER_MULTIPROC_METHOD": "spawn",  # a fork set by hand is overridden
        "CUDA_VISIBLE_DEVICES": "2",
        "CUDA_DEVICE_ORDER": "PCI_BUS_ID",
        "torch": False,
    }


# -- 3. health from the engine --------------------------------------------------------------------


def test_a_dead_engine_core_makes_health_false_ocr_503_and_the_worker_exit(tmp_path, libraries, monkeypatch):
    libraries({**standins.vllm_modules(), "torch": standins.torch_module()})
    monkeypatch.setattr(vllm_engine, "WATCH_INTERVAL_S", 0.05)
    exits: list[float] = []
    config = DeepSeekConfig(model=str(fake_weights(tmp_path / "w")), dead_engine_exit=0.3)
    engine = VLLMEngine(config, exit_process=lambda: exits.append(time.monotonic()))
    app = create_backend_app(DeepSeekOCRBackend(config, engine=engine), BackendServerConfig(background_load=False))
    client = app.test_client()
    try:
        assert client.get("/health").get_json()["model_loaded"] is True
        assert post_file(client, text_image(["x"])).status_code == 200
        died = time.monotonic()
        standins.FakeAsyncLLM.created[0].kill_engine_core()
        health = client.get("/health").get_json()
        validate(health, "backend_health")
        assert health["model_loaded"] is False and health["status"] == "unavailable"
        assert "engine core died" in health["reason"] and "DEEPSEEK_DEAD_ENGINE_EXIT" in health["reason"]
        assert client.get("/ready").status_code == 503
        response = post_file(client, text_image(["x"]))
        body = response.get_json()
        validate(body)
        assert response.status_code == 503 and body["error"]["code"] == "model_not_loaded", body
        assert body["error"]["retryable"] is True and "engine core died" in body["error"]["message"]
        assert wait_until(lambda: exits, 3.0), "the worker never exited to be restarted"
        assert exits[0] - died >= 0.3
    finally:
        engine.close()


def test_a_page_in_flight_when_the_engine_dies_is_503(tmp_path, libraries):
    libraries({**standins.vllm_modules(), "torch": standins.torch_module()})
    config = DeepSeekConfig(model=str(fake_weights(tmp_path / "w")), dead_engine_exit=0)
    engine = VLLMEngine(config, exit_process=lambda: pytest.fail("DEEPSEEK_DEAD_ENGINE_EXIT=0 must not exit"))
    backend = DeepSeekOCRBackend(config, engine=engine)
    client = create_backend_app(backend, BackendServerConfig(background_load=False)).test_client()
    try:
        core = standins.FakeAsyncLLM.created[0]
        core.step_seconds = 0.3
        threading.Timer(0.1, core.kill_engine_core).start()
        response = post_file(client, text_image(["x"]), mode="free")
        assert response.status_code == 503 and response.get_json()["error"]["code"] == "model_not_loaded"
        again = post_file(client, text_image(["x"]))
        assert again.status_code == 503 and "restart the service" in again.get_json()["error"]["message"]
    finally:
        engine.close()


@pytest.fixture
def served():
    """A ``vllm serve`` stand-in whose /health can fail and which can stop answering."""
    app = Flask("fake-vllm-serve")
    state = {"health": 200}

    @app.get("/v1/models")
    def models():
        return jsonify({"data": [{"id": "ocr", "root": "/models/DeepSeek-OCR-2", "object": "model"}]})

    @app.get("/health")
    def health():
        return "", state["health"]

    @app.post("/v1/chat/completions")
    def chat():
        return jsonify({"choices": [{"finish_reason": "stop", "message": {"content": "Served"}}], "usage": {}})

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", state, server
    server.shutdown()


def test_the_openai_engine_follows_its_servers_health_and_recovers(served):
    url, state, server = served
    engine = OpenAIEngine(DeepSeekConfig(engine="openai", openai_url=url), health_interval=0.05)
    client = create_backend_app(
        DeepSeekOCRBackend(DeepSeekConfig(engine="openai", openai_url=url), engine=engine),
        BackendServerConfig(background_load=False),
    ).test_client()
    try:
        assert client.get("/health").get_json()["model_loaded"] is True
        state["health"] = 503  # vLLM's answer when its engine is dead
        assert wait_until(lambda: client.get("/health").get_json()["model_loaded"] is False)
        health = client.get("/health").get_json()
        assert health["status"] == "unavailable" and "answers" in health["reason"] and "503" in health["reason"]
        response = post_file(client, text_image(["x"]))
        assert response.status_code == 503 and response.get_json()["error"]["code"] == "model_not_loaded"
        state["health"] = 200
        assert wait_until(lambda: client.get("/health").get_json()["model_loaded"] is True)
        assert post_file(client, text_image(["x"])).status_code == 200
        server.shutdown()  # the server stops answering at all
        assert wait_until(lambda: client.get("/health").get_json()["model_loaded"] is False)
        assert "stopped answering" in client.get("/health").get_json()["reason"]
        assert post_file(client, text_image(["x"])).status_code == 503
    finally:
        engine.close()


# -- 7. GPU memory from the process that holds the model ------------------------------------------


def test_gpu_memory_is_read_through_nvml_for_the_engine_core_process(tmp_path, libraries, monkeypatch):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])  # plays the engine core
    try:
        nvml = standins.FakeNvml({child.pid: 20 * 2**30, 2_000_000_000: 5 * 2**30}, used=26 * 2**30)
        libraries({**standins.vllm_modules(nvml), "torch": standins.torch_module()})
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
        engine = VLLMEngine(DeepSeekConfig(model=str(fake_weights(tmp_path / "w"))))
        assert "gpu_memory_used_mib" not in engine.details()  # nothing loaded, nothing to read
        engine.load()
        try:
            details = engine.details()
            assert details["gpu_memory_engine_mib"] == 20480.0  # ours (the child), not the other process
            assert (details["gpu_memory_used_mib"], details["gpu_memory_total_mib"]) == (26624.0, 81920.0)
            assert nvml.handles[-1] == 3 and nvml.open == 0
        finally:
            engine.close()
    finally:
        child.kill()
        child.wait()


# -- 8. n-gram settings per model -----------------------------------------------------------------


@pytest.mark.parametrize(
    "architecture, env, expected",
    [
        ("DeepseekOCRForCausalLM", {}, (30, 90)),
        ("DeepseekOCR2ForCausalLM", {}, (20, 90)),
        ("DeepseekOCR2ForCausalLM", {"DEEPSEEK_NGRAM_SIZE": "25"}, (25, 90)),
    ],
)
def test_each_model_gets_the_ngram_rule_of_its_official_script(tmp_path, libraries, architecture, env, expected):
    libraries({**standins.vllm_modules(), "torch": standins.torch_module()})
    config = DeepSeekConfig.from_env({"DEEPSEEK_MODEL": str(fake_weights(tmp_path / "w", architecture)), **env})
    backend = create_backend(config)
    backend.start()
    try:
        client = create_backend_app(backend, BackendServerConfig(background_load=False), load=False).test_client()
        assert post_file(client, text_image(["x"])).status_code == 200
        _, params, _ = standins.FakeAsyncLLM.created[0].requests[0]
        assert (params.extra_args["ngram_size"], params.extra_args["window_size"]) == expected
        assert (backend.output_settings()["ngram_size"], backend.output_settings()["ngram_window"]) == expected
        assert client.get("/health").get_json()["ngram"] == {"size": expected[0], "window": expected[1]}
    finally:
        backend.engine.close()


def test_the_openai_engine_takes_the_rule_from_the_served_weights(served):
    url, _, _ = served
    engine = OpenAIEngine(DeepSeekConfig(engine="openai", openai_url=url))
    engine.load()
    try:
        assert engine.variant == "DeepSeek-OCR-2"
    finally:
        engine.close()
