"""Pages in the engine: one bound across all requests, the time limit counted from when the engine
starts a page, finish reasons that mean "no result", and what the transformers engine can honour.
Through the real Flask app, with a scripted engine in the real seam."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from backends.deepseek_ocr.backend import DeepSeekOCRBackend, create_backend
from backends.deepseek_ocr.config import DeepSeekConfig
from backends.deepseek_ocr.engines.base import Generation
from backends.deepseek_ocr.engines.transformers_engine import REMOTE_CODE_MAX_NEW_TOKENS
from shared.backend_server import BackendServerConfig, create_backend_app
from shared.uploads import UploadLimits
from tests.support import deepseek as answers
from tests.support.client import post_file
from tests.support.deepseek import ScriptedEngine
from tests.support.documents import text_image, text_pdf
from tests.support.schema import validate

LIMITS = UploadLimits(max_bytes=5_000_000, max_pixels=20_000_000, max_pdf_pages=20)


def make_client(engine, backend_class=DeepSeekOCRBackend, **config):
    backend = backend_class(DeepSeekConfig(**config), engine=engine)
    app = create_backend_app(backend, BackendServerConfig(limits=LIMITS, background_load=False, max_queue=64))
    return app.test_client()


def test_many_concurrent_pdfs_never_put_more_than_the_bound_into_the_engine():
    engine = ScriptedEngine(answers.FREE_OCR, delay=0.15, workers=64)
    client = make_client(engine, max_num_seqs=4)
    pdf = text_pdf([[f"page {n}"] for n in range(1, 6)])
    seen: list[tuple[int, int]] = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            health = client.get("/health").get_json()
            seen.append((health["engine_pages_in_flight"], health["engine_pages_waiting"]))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: post_file(client, pdf, name="d.pdf", mode="free").status_code, range(8)))
    done.set()
    watcher.join()
    assert codes == [200] * 8
    # 4 requests admitted at once, each with 5 pages: 20 would be in the engine without the bound.
    assert engine.peak == 4, f"{engine.peak} pages were in the engine at once (bound 4)"
    assert max(in_engine for in_engine, _ in seen) <= 4 and max(waiting for _, waiting in seen) > 0
    health = client.get("/health").get_json()
    assert (health["engine_pages_limit"], health["engine_pages_in_flight"], health["engine_pages_waiting"]) == (4, 0, 0)


def test_the_bound_is_configurable_up_to_twice_max_num_seqs():
    engine = ScriptedEngine(answers.FREE_OCR, delay=0.3, workers=64)
    client = make_client(engine, max_num_seqs=2, engine_pages=4)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: post_file(client, text_pdf([["a"], ["b"], ["c"]]), name="d.pdf").status_code, range(2)))
    assert engine.peak == 4


def test_a_pages_time_limit_starts_when_the_engine_starts_it():
    # The engine runs 2 pages at once (as vLLM batches max_num_seqs); 2 requests of 2 pages each.
    # Each page takes 0.4 s in the engine; the limit is 0.6 s. Counted from when a page was first
    # queued, the second batch would have waited 0.4 s and failed at 0.6 s.
    engine = ScriptedEngine(answers.FREE_OCR, delay=0.4, workers=2)
    client = make_client(engine, max_num_seqs=2, page_timeout=0.6)
    pdf = text_pdf([["a"], ["b"]])
    barrier = threading.Barrier(2)

    def one(_):
        barrier.wait()
        return post_file(client, pdf, name="d.pdf", mode="free")

    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(one, range(2)))
    assert [r.status_code for r in responses] == [200, 200], [r.get_json() for r in responses]
    assert engine.peak == 2


def test_a_page_over_its_limit_in_the_engine_is_still_504():
    engine = ScriptedEngine(answers.FREE_OCR, delay=1.0, workers=4)
    client = make_client(engine, max_num_seqs=4, page_timeout=0.3)
    response = post_file(client, text_image(["x"]))
    assert response.status_code == 504 and response.get_json()["error"]["code"] == "inference_timeout"


def _finishing_with(reason):
    def answer(request):
        return Generation("" if reason != "length" else answers.TRUNCATED, reason, 0)

    return answer


def test_finish_reason_error_or_abort_fails_the_request_retryably_naming_the_backend():
    for reason in ("error", "abort", ""):
        client = make_client(ScriptedEngine(_finishing_with(reason)))
        for document, name in ((text_image(["x"]), "p.png"), (text_pdf([["a"], ["b"]]), "d.pdf")):
            response = post_file(client, document, name=name)
            body = response.get_json()
            validate(body)
            assert response.status_code == 500 and body["error"]["code"] == "inference_failed", body
            assert body["backend"] == "deepseek-ocr" and body["error"]["retryable"] is True
            assert f"finish_reason {reason or 'missing'!r}" in body["error"]["message"]
            assert body["error"]["message"].startswith("deepseek-ocr engine (scripted)")


def test_finish_reason_repetition_keeps_the_page_and_flags_it():
    client = make_client(ScriptedEngine(lambda request: Generation(answers.TITLE_883x736, "repetition", 9)))
    body = post_file(client, text_image(["x"])).get_json()
    validate(body)
    page = body["pages"][0]
    assert body["success"] is True and page["markdown"].startswith("# LORA")
    assert page["warnings"][0].startswith("truncated: vLLM stopped a repeating pattern")
    assert body["raw_result"]["deepseek"]["pages"][0]["truncated"] is True


class RemoteCodeLike(ScriptedEngine):
    """The transformers engine's seam: no per-request max_tokens."""

    honours_max_tokens = False


def test_the_transformers_backend_says_it_takes_no_max_tokens():
    """It does not publish max_tokens, so a request that sends it is refused (#21: before, the option
    was ignored with a warning and the page ran with the model's own cap)."""
    engine = RemoteCodeLike(answers.FREE_OCR)
    backend = create_backend(DeepSeekConfig(engine="transformers"), engine=engine)
    client = create_backend_app(backend, BackendServerConfig(limits=LIMITS, background_load=False)).test_client()
    health = client.get("/health").get_json()
    assert [o["name"] for o in health["options"]] == ["mode", "prompt", "phrase"]
    assert health["max_tokens_per_request"] is False
    response = post_file(client, text_image(["x"]), max_tokens="64", mode="free")
    body = response.get_json()
    validate(body)
    assert response.status_code == 400
    assert "option 'max_tokens' is not accepted by backend 'deepseek-ocr'" in body["error"]["message"]
    assert engine.requests == []
    body = post_file(client, text_image(["x"]), mode="free").get_json()
    assert body["success"] is True and engine.requests[0].max_tokens == REMOTE_CODE_MAX_NEW_TOKENS
    # The vLLM backend publishes the option with its bounds and says so.
    vllm_health = make_client(ScriptedEngine()).get("/health").get_json()
    [cap] = [o for o in vllm_health["options"] if o["name"] == "max_tokens"]
    assert (cap["type"], cap["minimum"], cap["maximum"], cap["default"]) == ("integer", 16, 8192, 8192)
    assert vllm_health["max_tokens_per_request"] is True
