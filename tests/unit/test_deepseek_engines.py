"""The engine adapters against stand-ins of what they call: vLLM's async engine, the model's remote
code on transformers, and an OpenAI-compatible ``vllm serve`` on loopback."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask, jsonify, request
from PIL import Image
from werkzeug.serving import make_server

from backends.deepseek_ocr.backend import DeepSeekOCRBackend
from backends.deepseek_ocr.config import DeepSeekConfig
from backends.deepseek_ocr.engines import create_engine, preflight
from backends.deepseek_ocr.engines.base import EngineUnavailable, GenerationRequest
from backends.deepseek_ocr.engines.openai_engine import OpenAIEngine
from backends.deepseek_ocr.engines.transformers_engine import TransformersEngine
from backends.deepseek_ocr.engines.vllm_engine import VLLMEngine
from backends.deepseek_ocr.prompts import PROMPTS
from shared.backend_server import BackendServerConfig, create_backend_app
from tests.support import library_standins as standins
from tests.support.client import post_file
from tests.support.deepseek import fake_weights
from tests.support.documents import text_image
from tests.support.schema import validate


@pytest.fixture
def libraries(monkeypatch):
    yield lambda modules: standins.install(monkeypatch, modules)
    preflight.cuda_available.cache_clear()


def page_request(prompt=PROMPTS["document"], max_tokens=8192, request_id="r1"):
    return GenerationRequest(
        image=Image.new("RGB", (640, 480), "white"), prompt=prompt, max_tokens=max_tokens, request_id=request_id
    )


def test_engine_is_chosen_by_config():
    assert isinstance(create_engine(DeepSeekConfig(engine="vllm")), VLLMEngine)
    assert isinstance(create_engine(DeepSeekConfig(engine="transformers")), TransformersEngine)
    assert isinstance(create_engine(DeepSeekConfig(engine="openai")), OpenAIEngine)


# -- vLLM -----------------------------------------------------------------------------------------


def test_vllm_engine_builds_the_async_engine_with_the_official_settings(tmp_path, libraries):
    libraries({**standins.vllm_modules(), "torch": standins.torch_module()})
    weights = fake_weights(tmp_path / "DeepSeek-OCR-2", "DeepseekOCR2ForCausalLM")
    engine = VLLMEngine(
        DeepSeekConfig(model=str(weights), max_num_seqs=24, max_model_len=6000, gpu_memory_utilization=0.7)
    )
    engine.load()
    try:
        args = standins.FakeAsyncLLM.created[0].engine_args
        assert args.model == str(weights) and args.served_model_name == "DeepSeek-OCR-2"
        assert args.enable_prefix_caching is False and args.mm_processor_cache_gb == 0
        assert args.logits_processors == [standins.NGramPerReqLogitsProcessor]
        assert (args.max_num_seqs, args.max_model_len, args.gpu_memory_utilization) == (24, 6000, 0.7)
        assert engine.model_label == "DeepSeek-OCR-2 (vllm 0.18.1)"
    finally:
        engine.close()
    assert standins.FakeAsyncLLM.created[0].shut_down


def test_vllm_engine_generates_with_greedy_ngram_settings_and_batches_threads(tmp_path, libraries):
    libraries({**standins.vllm_modules(), "torch": standins.torch_module()})
    engine = VLLMEngine(DeepSeekConfig(model=str(fake_weights(tmp_path / "w"))))
    engine.load()
    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda n: engine.submit(page_request(request_id=f"r{n}")).result(5), range(8)))
        fake = standins.FakeAsyncLLM.created[0]
        assert fake.peak == 8, "pages from different threads must be in the engine together"
        assert {r.text for r in results} == {"<|ref|>text<|/ref|><|det|>[[0, 0, 500, 500]]<|/det|>\nHello page"}
        assert {r.finish_reason for r in results} == {"stop"} and results[0].output_tokens == 3
        prompt, params, _ = fake.requests[0]
        assert prompt["prompt"] == PROMPTS["document"] and prompt["multi_modal_data"]["image"].size == (640, 480)
        assert params.temperature == 0.0 and params.skip_special_tokens is False and params.max_tokens == 8192
        assert params.extra_args == {"ngram_size": 30, "window_size": 90, "whitelist_token_ids": [128821, 128822]}
        assert engine.submit(page_request(max_tokens=20)).result(5).finish_reason == "length"
        fake.finish_reasons["failed"] = "error"
        assert engine.submit(page_request(request_id="failed")).result(5).finish_reason == "error"
    finally:
        engine.close()


def test_vllm_engine_aborts_an_abandoned_page(tmp_path, libraries):
    libraries({**standins.vllm_modules(), "torch": standins.torch_module()})
    engine = VLLMEngine(DeepSeekConfig(model=str(fake_weights(tmp_path / "w"))))
    engine.load()
    try:
        fake = standins.FakeAsyncLLM.created[0]
        fake.step_seconds = 0.5
        future = engine.submit(page_request(request_id="slow"))
        with pytest.raises(TimeoutError):
            future.result(0.2)
        future.cancel()
        deadline = threading.Event()
        for _ in range(50):
            if fake.aborted:
                break
            deadline.wait(0.05)
        assert fake.aborted == ["slow"]
    finally:
        engine.close()


def test_vllm_engine_without_weights_library_or_gpu_says_all_of_it(tmp_path, libraries):
    libraries({"torch": standins.torch_module(cuda=False)})
    with pytest.raises(EngineUnavailable) as missing:
        VLLMEngine(DeepSeekConfig(model=str(tmp_path / "nothing"))).load()
    message = str(missing.value)
    assert "DeepSeek-OCR weights not found" in message and "vllm is not installed" in message
    libraries({**standins.vllm_modules(), "torch": standins.torch_module(cuda=False)})
    with pytest.raises(EngineUnavailable, match="no CUDA GPU is visible"):
        VLLMEngine(DeepSeekConfig(model=str(fake_weights(tmp_path / "w")))).load()


def test_weights_directory_must_be_complete(tmp_path):
    from backends.deepseek_ocr.model_files import find_model

    weights = fake_weights(tmp_path / "w")
    (weights / "model-00001-of-00001.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match=r"no \*\.safetensors"):
        find_model(str(weights))
    other = fake_weights(tmp_path / "other", "LlamaForCausalLM")
    with pytest.raises(FileNotFoundError, match="not DeepSeek-OCR"):
        find_model(str(other))


def test_hub_id_is_found_in_the_local_cache(tmp_path, monkeypatch):
    from backends.deepseek_ocr.model_files import find_model

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    snapshot = fake_weights(tmp_path / "models--deepseek-ai--DeepSeek-OCR" / "snapshots" / "abc123")
    found = find_model("deepseek-ai/DeepSeek-OCR")
    assert found.directory == snapshot and found.variant == "DeepSeek-OCR"


# -- transformers (remote code) -------------------------------------------------------------------


def test_transformers_engine_loads_the_remote_code_and_serialises_pages(tmp_path, libraries):
    libraries(standins.transformers_modules())
    weights = fake_weights(tmp_path / "w")
    engine = TransformersEngine(DeepSeekConfig(engine="transformers", model=str(weights)))
    engine.load()
    model = standins.AutoModel.loaded[0]
    assert model.kwargs == {"trust_remote_code": True, "use_safetensors": True, "_attn_implementation": "eager"}
    assert model.moves == ["eval", "cuda", "bfloat16"]
    result = engine.submit(page_request()).result(5)
    assert result.text.endswith("Remote code page") and result.finish_reason == "stop"
    call = model.calls[0]
    assert call["prompt"] == PROMPTS["document"] and call["eval_mode"] is True and call["save_results"] is False
    assert (call["base_size"], call["image_size"], call["crop_mode"]) == (1024, 640, True)
    assert not (tmp_path / call["output_path"]).exists(), "the per-page directory must be removed"
    assert engine.workers == 1
    assert DeepSeekOCRBackend(DeepSeekConfig(engine="transformers"), engine=engine).max_concurrency == 1
    engine.close()


def test_transformers_engine_flags_only_a_page_that_reached_the_fixed_cap(tmp_path, libraries):
    libraries(standins.transformers_modules())
    engine = TransformersEngine(DeepSeekConfig(engine="transformers", model=str(fake_weights(tmp_path / "w"))))
    engine.load()
    model = standins.AutoModel.loaded[0]
    model.answer = "word " * 40
    # A request's max_tokens never reaches infer (it always allows 8192): 40 tokens is a whole page.
    assert engine.submit(page_request(max_tokens=40)).result(5).finish_reason == "stop"
    model.answer = "word " * 8192
    assert engine.submit(page_request()).result(5).finish_reason == "length"
    assert engine.honours_max_tokens is False
    engine.close()


# -- OpenAI-compatible vllm serve -----------------------------------------------------------------


@pytest.fixture
def vllm_server():
    """A loopback stand-in for ``vllm serve``: records the chat requests it gets."""
    app = Flask("fake-vllm-serve")
    seen: list[dict] = []
    state = {"status": 200}

    @app.get("/v1/models")
    def models():
        return jsonify({"object": "list", "data": [{"id": "deepseek-ai/DeepSeek-OCR", "object": "model"}]})

    @app.post("/v1/chat/completions")
    def chat():
        seen.append(request.get_json())
        if state["status"] != 200:
            return jsonify({"error": {"message": "out of memory"}}), state["status"]
        return jsonify(
            {
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {
                            "role": "assistant",
                            "content": "<|ref|>title<|/ref|><|det|>[[100, 100, 900, 200]]<|/det|>\n# Served",
                        },
                    }
                ],
                "usage": {"completion_tokens": 17},
            }
        )

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen, state
    server.shutdown()


def test_openai_engine_sends_the_offline_settings(vllm_server):
    url, seen, _ = vllm_server
    engine = OpenAIEngine(DeepSeekConfig(engine="openai", openai_url=url))
    engine.load()
    assert engine.served_model == "deepseek-ai/DeepSeek-OCR"
    result = engine.submit(page_request()).result(5)
    assert result.text.endswith("# Served") and result.finish_reason == "stop" and result.output_tokens == 17
    body = seen[0]
    assert body["model"] == "deepseek-ai/DeepSeek-OCR" and body["temperature"] == 0.0
    assert body["skip_special_tokens"] is False and body["max_completion_tokens"] == 8192
    assert body["vllm_xargs"] == {"ngram_size": 30, "window_size": 90, "whitelist_token_ids": [128821, 128822]}
    image_part, text_part = body["messages"][0]["content"]
    assert image_part["image_url"]["url"].startswith("data:image/png;base64,")
    assert text_part == {"type": "text", "text": "<|grounding|>Convert the document to markdown."}
    engine.close()


def test_openai_engine_through_the_backend_server(vllm_server):
    url, _, state = vllm_server
    backend = DeepSeekOCRBackend(DeepSeekConfig(engine="openai", openai_url=url))
    client = create_backend_app(backend, BackendServerConfig(background_load=False)).test_client()
    health = client.get("/health").get_json()
    assert health["model_loaded"] is True and health["device"] == "remote" and health["openai_url"] == url
    body = post_file(client, text_image(["x"])).get_json()
    validate(body)
    assert body["markdown"] == "# Served" and body["model"].startswith("deepseek-ai/DeepSeek-OCR (vllm serve at")
    state["status"] = 500
    failed = post_file(client, text_image(["x"]))
    assert failed.status_code == 500 and "answered 500" in failed.get_json()["error"]["message"]


def test_openai_engine_unreachable_or_wrong_model(vllm_server):
    url, _, _ = vllm_server
    with pytest.raises(EngineUnavailable, match="does not answer"):
        OpenAIEngine(DeepSeekConfig(engine="openai", openai_url="http://127.0.0.1:9")).load()
    with pytest.raises(EngineUnavailable, match="not 'other'"):
        OpenAIEngine(DeepSeekConfig(engine="openai", openai_url=url, openai_model="other")).load()
