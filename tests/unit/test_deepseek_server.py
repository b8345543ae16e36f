"""The DeepSeek-OCR backend through the real Flask app, with a scripted engine in the real seam."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from backends.deepseek_ocr.backend import DeepSeekOCRBackend
from backends.deepseek_ocr.config import DeepSeekConfig
from backends.deepseek_ocr.engines.base import Generation
from backends.deepseek_ocr.prompts import PROMPTS
from shared.backend_server import BackendServerConfig, create_backend_app
from shared.catalogue import catalogue
from shared.uploads import UploadLimits
from tests.support import deepseek as answers
from tests.support.client import post_file
from tests.support.deepseek import ScriptedEngine
from tests.support.documents import text_image, text_pdf
from tests.support.schema import validate

LIMITS = UploadLimits(max_bytes=5_000_000, max_pixels=20_000_000, max_pdf_pages=20)


def make_client(engine=None, **config):
    engine = engine or ScriptedEngine()
    backend = DeepSeekOCRBackend(DeepSeekConfig(**config), engine=engine)
    # As many threads as the catalogue gives the GPU backends, so the engine's concurrency is not cut.
    threads = catalogue().backends["deepseek-ocr"].threads or 64
    app = create_backend_app(backend, BackendServerConfig(limits=LIMITS, background_load=False, threads=threads))
    return app.test_client(), engine


def test_image_gives_grounded_markdown_blocks_and_boxes():
    client, engine = make_client()
    response = post_file(client, text_image(["Quarterly Report"]), name="scan.png")
    body = response.get_json()
    assert response.status_code == 200, body
    validate(body)
    assert body["backend"] == "deepseek-ocr" and body["model"] == "DeepSeek-OCR"
    assert body["markdown"].startswith("# Quarterly Report\n\nRevenue grew by 12%")
    assert "![](images/0.jpg)" in body["markdown"]
    assert "](data:image/jpeg;base64," in body["source_markdown"]
    page = body["pages"][0]
    assert [b["type"] for b in page["blocks"]] == ["title", "text", "equation", "table", "image", "image_caption"]
    width, height = page["width"], page["height"]
    assert page["blocks"][0]["bbox"] == [
        int(100 / 999 * width),
        int(50 / 999 * height),
        int(900 / 999 * width),
        int(100 / 999 * height),
    ]
    assert body["boxes_image"].startswith("data:image/jpeg;base64,")
    assert body["options"]["mode"] == "document" and body["options"]["prompt"] == PROMPTS["document"]
    raw = body["raw_result"]["deepseek"]
    assert raw["mode"] == "document" and raw["prompt"] == PROMPTS["document"] and raw["engine"] == "scripted"
    assert raw["pages"][0]["text"] == answers.DOCUMENT_PAGE and raw["pages"][0]["finish_reason"] == "stop"
    assert engine.requests[0].prompt == PROMPTS["document"] and engine.requests[0].max_tokens == 8192


@pytest.mark.parametrize(
    "fields, prompt",
    [
        ({"mode": "free"}, "<image>\nFree OCR."),
        ({"mode": "figure"}, "<image>\nParse the figure."),
        ({"mode": "describe"}, "<image>\nDescribe this image in detail."),
        ({"mode": "ocr"}, "<image>\n<|grounding|>OCR this image."),
        ({"mode": "locate", "phrase": "total"}, "<image>\nLocate <|ref|>total<|/ref|> in the image."),
        ({"prompt": "Read the stamp."}, "<image>\nRead the stamp."),
        (
            {"prompt": "<image>\n<|grounding|>Convert the document to markdown."},
            "<image>\n<|grounding|>Convert the document to markdown.",
        ),
    ],
)
def test_modes_and_custom_prompts_reach_the_engine_and_come_back(fields, prompt):
    client, engine = make_client(ScriptedEngine(answers.FREE_OCR))
    body = post_file(client, text_image(["x"]), **fields).get_json()
    validate(body)
    assert engine.requests[-1].prompt == prompt
    assert body["options"]["prompt"] == prompt and body["raw_result"]["deepseek"]["prompt"] == prompt
    assert body["options"]["mode"] == ("custom" if "prompt" in fields else fields["mode"])
    assert not any("ignored" in w for w in body["warnings"])


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"mode": "poem"}, "option 'mode' of backend 'deepseek-ocr' must be one of document, ocr, free"),
        ({"mode": "locate"}, "needs a 'phrase'"),
        ({"mode": "locate", "phrase": "a<|/ref|>b"}, "special tokens"),
        ({"mode": "free", "prompt": "hi"}, "either mode or prompt"),
        ({"prompt": "<image> <image> twice"}, "at most once"),
        ({"prompt": "x" * 2001}, "longer than 2000"),
        ({"max_tokens": "lots"}, "option 'max_tokens' of backend 'deepseek-ocr' must be an integer"),
        ({"max_tokens": "99999"}, "option 'max_tokens' of backend 'deepseek-ocr' must be between 16 and 8192"),
        ({"tier": "flash"}, "option 'tier' is not accepted by backend 'deepseek-ocr'"),
    ],
)
def test_bad_options_are_400_before_the_engine(fields, fragment):
    client, engine = make_client()
    response = post_file(client, text_image(["x"]), **fields)
    body = response.get_json()
    assert response.status_code == 400 and body["error"]["code"] == "invalid_option", body
    assert fragment in body["error"]["message"] and body["backend"] == "deepseek-ocr"
    validate(body)
    assert engine.requests == []


def test_max_tokens_option_caps_the_page():
    client, engine = make_client()
    body = post_file(client, text_image(["x"]), max_tokens="512").get_json()
    assert engine.requests[0].max_tokens == 512 and body["options"]["max_tokens"] == "512"


def test_pdf_pages_are_all_in_the_engine_at_once_and_come_back_in_order():
    def answer(request):
        return Generation(f"Page of width {request.image.width} at {id(request)}", "stop", 5)

    engine = ScriptedEngine(answer, delay=0.6)
    client, _ = make_client(engine)
    pdf = text_pdf([[f"page {n}"] for n in range(1, 7)])
    started = time.perf_counter()
    body = post_file(client, pdf, name="doc.pdf", page_range="1-4,6").get_json()
    elapsed = time.perf_counter() - started
    validate(body)
    assert len(body["pages"]) == 5 and engine.peak == 5
    assert elapsed < 2.4, f"pages ran one after another ({elapsed:.2f} s; in turn: 3 s)"
    assert body["options"]["dpi"] == 144 and body["pages"][0]["width"] == (595 * 2)
    assert body["markdown"].count("\n\n---\n\n") == 4


def test_pdf_with_one_truncated_page_succeeds_and_flags_that_page():
    texts = iter([(answers.TITLE_883x736, "stop"), (answers.TRUNCATED, "length"), (answers.SUB_TITLE, "stop")])
    lock = threading.Lock()

    def answer(request):
        with lock:
            text, reason = next(texts)
        return Generation(text, reason, 9)

    client, _ = make_client(ScriptedEngine(answer, workers=1))
    body = post_file(client, text_pdf([["a"], ["b"], ["c"]]), name="doc.pdf").get_json()
    validate(body)
    assert body["success"] is True and len(body["pages"]) == 3
    assert body["pages"][0]["warnings"] == [] and body["pages"][2]["warnings"] == []
    assert body["pages"][1]["warnings"][0].startswith("truncated:")
    assert not any("truncated" in warning for warning in body["warnings"])  # it stays on its page
    assert body["raw_result"]["deepseek"]["pages"][1]["truncated"] is True
    assert "![](images/" not in body["markdown"]


def test_pdf_figures_are_named_by_page():
    client, _ = make_client(ScriptedEngine(answers.IMAGE_AND_TEXT_1196x800))
    body = post_file(client, text_pdf([["a"], ["b"]]), name="doc.pdf").get_json()
    assert "![](images/page1_0.jpg)" in body["markdown"] and "![](images/page2_0.jpg)" in body["markdown"]


def test_engine_error_is_a_json_500_naming_deepseek():
    def answer(request):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    client, _ = make_client(ScriptedEngine(answer))
    response = post_file(client, text_image(["x"]))
    body = response.get_json()
    assert response.status_code == 500 and body["error"]["code"] == "inference_failed"
    assert body["backend"] == "deepseek-ocr" and "illegal memory access" in body["error"]["message"]
    assert body["error"]["message"].startswith("deepseek-ocr engine (scripted) failed")
    validate(body)
    assert client.get("/health").get_json()["status"] == "healthy"


def test_a_page_over_the_timeout_is_504_and_is_cancelled():
    engine = ScriptedEngine(delay=1.0, workers=1)
    client, _ = make_client(engine, page_timeout=0.2)
    pdf = text_pdf([["a"], ["b"], ["c"]])
    response = post_file(client, pdf, name="doc.pdf")
    body = response.get_json()
    assert response.status_code == 504 and body["error"]["code"] == "inference_timeout", body
    assert "DEEPSEEK_PAGE_TIMEOUT" in body["error"]["message"]
    validate(body)
    time.sleep(1.2)
    assert engine.cancelled >= 2  # the pages still waiting were dropped, not run for nobody


def test_no_weights_means_503_with_the_reason(tmp_path):
    # The real vLLM engine, as CI has it: no weights, no vllm, no GPU.
    config = DeepSeekConfig(model=str(tmp_path / "missing"))
    backend = DeepSeekOCRBackend(config)
    # As many threads as the catalogue gives the GPU backends, so the engine's concurrency is not cut.
    threads = catalogue().backends["deepseek-ocr"].threads or 64
    app = create_backend_app(backend, BackendServerConfig(limits=LIMITS, background_load=False, threads=threads))
    client = app.test_client()
    health = client.get("/health").get_json()
    validate(health, "backend_health")
    assert health["model_loaded"] is False and health["status"] == "unavailable"
    assert "DeepSeek-OCR weights not found" in health["reason"] and "huggingface-cli download" in health["reason"]
    assert health["engine"] == "vllm" and health["device"] == "cuda"
    response = post_file(client, text_image(["x"]))
    body = response.get_json()
    assert response.status_code == 503 and body["error"]["code"] == "model_not_loaded"
    assert "DeepSeek-OCR weights not found" in body["error"]["message"] and body["backend"] == "deepseek-ocr"
    validate(body)


def test_sixteen_requests_reach_the_engine_together():
    engine = ScriptedEngine(answers.FREE_OCR, delay=1.0)
    client, _ = make_client(engine)
    image = text_image(["x"], width=400)
    barrier = threading.Barrier(16)

    def one(_):
        barrier.wait()
        return post_file(client, image, mode="free").status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(one, range(16)))
    elapsed = time.perf_counter() - started
    assert codes == [200] * 16
    assert engine.peak == 16, f"at most {engine.peak} pages were in the engine at once"
    assert elapsed < 8.0, f"16 requests of 1 s took {elapsed:.1f} s (in turn: 16 s)"
