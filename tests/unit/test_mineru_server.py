"""The MinerU backend through the real Flask app, with a stand-in parser in the backend's seam that
returns real ``ParseResult`` objects built from the recorded documents."""

import base64
import io
import threading
import time

import pymupdf
import pytest
from PIL import Image

from backends.mineru_backend.backend import MinerUBackend
from backends.mineru_backend.settings import MineruConfig
from shared.api_contract import PAGE_SEPARATOR
from shared.backend_server import BackendServerConfig, create_backend_app
from shared.uploads import UploadLimits
from tests.support.documents import text_image, text_pdf
from tests.support.mineru import ParseResult, StandInParser, fixture, pages_of
from tests.support.multipart import multipart
from tests.support.schema import validate

NO_MODELS = (
    "tier 'standard' needs model files that are not installed. Model repo MinerU-4_models_onnx is not "
    "ready under /models/MinerU-4_models_onnx; missing: OCR/paddleocr/ch_PP-OCRv6_tiny_det_infer.onnx. "
    "Run: mineru-kit models download --tier standard"
)


@pytest.fixture
def tmp_uploads(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


def make_client(tmp_uploads, parser=None, **config):
    parser = parser or StandInParser()
    backend = MinerUBackend(MineruConfig(tmp_dir=str(tmp_uploads), **config), parser)
    limits = UploadLimits(max_bytes=5_000_000, max_pixels=20_000_000, max_pdf_pages=10)
    app = create_backend_app(backend, BackendServerConfig(limits=limits, background_load=False))
    return app.test_client(), parser


def post(client, data, path="/ocr", name="doc.bin", **fields):
    body, content_type = multipart({"file": (name, data)}, fields)
    response = client.post(path, data=body, content_type=content_type)
    validate(response.get_json())
    return response


def page_sizes(pdf: bytes, dpi: int = 144) -> list[tuple[int, int]]:
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        return [(round(p.rect.width * dpi / 72), round(p.rect.height * dpi / 72)) for p in document]


def minerus_markdown(indices):
    return ParseResult.from_dict(pages_of(fixture(), indices)).markdown()


PAGE_TWO = minerus_markdown([1]).replace("Figure 2. Plan", "![](images/page2_fig3.png)\n\nFigure 2. Plan")


def test_an_image_goes_through_mineru_and_comes_back_in_the_contract(tmp_uploads):
    client, parser = make_client(tmp_uploads)
    image = text_image(["Quarterly Report"], width=1000)
    width, height = Image.open(io.BytesIO(image)).size
    response = post(client, image, name="report.png")
    assert response.status_code == 200
    body = response.get_json()
    assert body["backend"] == "mineru" and body["document_type"] == "image" and body["image_name"] == "report.png"
    assert body["model"] == "MinerU 4.0.12 (standard)"
    # MinerU got a PNG file and the default settings
    assert [(c["tier"], c["ocr_mode"], c["page_range"], c["head"]) for c in parser.calls] == [
        ("standard", "auto", "", b"\x89PNG\r\n\x1a\n")
    ]
    [page] = body["pages"]
    assert (page["width"], page["height"]) == (width, height)
    assert page["blocks"][1] == {
        "type": "doc_title",
        "text": "Quarterly Report",
        "score": None,
        "bbox": [round(0.1 * width, 1), round(0.05 * height, 1), round(0.9 * width, 1), round(0.09 * height, 1)],
    }
    # markdown: MinerU's rendering of its page, figures as links; source_markdown embeds them
    assert body["markdown"] == page["markdown"] == minerus_markdown([0])
    assert "![](data:image/png;base64," in body["source_markdown"]
    assert (
        body["source_markdown"].replace(body["source_markdown"].split("![](")[1].split(")")[0], "images/page0_fig1.png")
        == body["markdown"]
    )
    assert body["boxes_image"].startswith("data:image/jpeg;base64,") and page["boxes_image"] == body["boxes_image"]
    raw = body["raw_result"]["mineru"]
    assert raw["content"] == ParseResult.from_dict(pages_of(fixture(), [0])).to_dict()
    assert raw["metadata"] == {
        "tier": "standard",
        "ocr_mode": "auto",
        "page_range": "all",
        "version": "4.0.12",
        "vlm_server_url": None,
    }
    assert {"mineru", "postprocess"} <= set(body["timings"])


def test_a_pdf_gives_one_page_per_mineru_page_in_its_rendered_size(tmp_uploads):
    client, parser = make_client(tmp_uploads)
    pdf = text_pdf([["page one"], ["page two"]])
    response = post(client, pdf, path="/ocr/pdf", name="report.pdf")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["document_type"] == "pdf" and body["options"]["dpi"] == 144
    sizes = page_sizes(pdf)
    assert [(p["width"], p["height"]) for p in body["pages"]] == sizes
    assert [p["page"] for p in body["pages"]] == [1, 2]
    (w2, h2) = sizes[1]
    assert body["pages"][1]["blocks"][0] == {
        "type": "paragraph_title",
        "text": "2. Outlook",
        "score": None,
        "bbox": [round(0.1 * w2, 1), round(0.05 * h2, 1), round(0.7 * w2, 1), round(0.08 * h2, 1)],
    }
    # MinerU leaves out a figure it kept no picture of; our renderer names it after its page
    assert body["markdown"] == PAGE_SEPARATOR.join([minerus_markdown([0]), PAGE_TWO])
    assert body["source_markdown"].count("![](data:image/png;base64,") == 2
    assert all(p["boxes_image"].startswith("data:image/jpeg;base64,") for p in body["pages"])
    assert parser.calls[0]["page_range"] == "" and parser.calls[0]["head"].startswith(b"%PDF")
    assert body["raw_result"]["mineru"]["content"]["pages"] == fixture()["pages"]


def test_a_page_range_is_checked_by_us_and_passed_to_mineru(tmp_uploads):
    client, parser = make_client(tmp_uploads)
    pdf = text_pdf([["one"], ["two"], ["three"]])
    response = post(client, pdf, page_range="2")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert parser.calls[0]["page_range"] == "2"
    assert len(body["pages"]) == 1 and body["pages"][0]["markdown"] == PAGE_TWO
    assert body["raw_result"]["mineru"]["metadata"]["page_range"] == "2"
    assert body["options"]["page_range"] == "2"
    bad = post(client, pdf, page_range="4")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_option"
    assert len(parser.calls) == 1  # a bad range never reaches MinerU


def test_boxes_image_can_be_left_out(tmp_uploads):
    client, _ = make_client(tmp_uploads)
    body = post(client, text_pdf([["a"], ["b"]]), boxes_image="false").get_json()
    assert body["boxes_image"] is None and all(p["boxes_image"] is None for p in body["pages"])


@pytest.mark.parametrize(
    "fields, tier, ocr_mode",
    [
        ({}, "standard", "auto"),
        ({"tier": "flash"}, "flash", "auto"),
        ({"tier": "basic", "ocr_mode": "txt"}, "basic", "txt"),
        ({"tier": "Advanced", "ocr_mode": "OCR"}, "advanced", "ocr"),
    ],
)
def test_tier_and_ocr_mode_options_reach_mineru(tmp_uploads, fields, tier, ocr_mode):
    client, parser = make_client(tmp_uploads)
    body = post(client, text_image(["x"]), **fields).get_json()
    assert body["success"] is True and body["warnings"] == []
    assert (parser.calls[0]["tier"], parser.calls[0]["ocr_mode"]) == (tier, ocr_mode)
    assert body["raw_result"]["mineru"]["metadata"]["tier"] == tier
    assert (body["options"]["tier"], body["options"]["ocr_mode"]) == (tier, ocr_mode)  # what it ran with


def test_the_default_tier_comes_from_the_configuration(tmp_uploads):
    client, parser = make_client(tmp_uploads, tier="basic", ocr_mode="ocr")
    body = post(client, text_image(["x"])).get_json()
    assert body["model"] == "MinerU 4.0.12 (basic)"
    assert (parser.calls[0]["tier"], parser.calls[0]["ocr_mode"]) == ("basic", "ocr")


@pytest.mark.parametrize("fields, named", [({"tier": "turbo"}, "tier"), ({"ocr_mode": "vision"}, "ocr_mode")])
def test_an_invalid_tier_or_ocr_mode_is_a_400(tmp_uploads, fields, named):
    client, parser = make_client(tmp_uploads)
    response = post(client, text_image(["x"]), **fields)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_option"
    assert (
        error["message"]
        == {
            "tier": "tier must be one of flash, basic, standard, advanced, got 'turbo'",
            "ocr_mode": "ocr_mode must be one of auto, txt, ocr, got 'vision'",
        }[named]
    )
    assert parser.calls == []


@pytest.mark.parametrize("document", ["image", "pdf"])
def test_a_mineru_failure_is_a_json_error_naming_mineru_and_leaves_no_file(tmp_uploads, document):
    client, parser = make_client(tmp_uploads, StandInParser(fail=RuntimeError("CUDA out of memory")))
    data = text_image(["x"]) if document == "image" else text_pdf([["x"]])
    response = post(client, data)
    assert response.status_code == 500
    body = response.get_json()
    assert body["backend"] == "mineru" and body["error"]["code"] == "inference_failed"
    assert body["error"]["message"] == "mineru failed to parse the document: RuntimeError: CUDA out of memory"
    assert len(parser.calls) == 1 and list(tmp_uploads.iterdir()) == []


def test_a_request_mineru_refuses_is_a_400_naming_mineru(tmp_uploads):
    from mineru.errors import InvalidRequestError

    refusal = InvalidRequestError("page_range_invalid", "Page range is only supported for PDF files", "page_range")
    client, _ = make_client(tmp_uploads, StandInParser(fail=refusal))
    response = post(client, text_pdf([["x"]]))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_option" and error["message"].startswith("mineru refused the request: ")
    assert "Page range is only supported for PDF files" in error["message"]
    assert list(tmp_uploads.iterdir()) == []


@pytest.mark.parametrize("pages", [[], [0, 1]])
def test_an_image_must_come_back_as_one_page(tmp_uploads, pages):
    parser = StandInParser()
    parser.parse = lambda path, **settings: ParseResult.from_dict(pages_of(fixture(), pages))
    client, _ = make_client(tmp_uploads, parser)
    response = post(client, text_image(["x"]))
    assert response.status_code == 500
    assert response.get_json()["error"]["message"] == f"mineru returned {len(pages)} pages for one image"


def test_uploads_are_private_temp_files_removed_after_each_request(tmp_uploads):
    client, parser = make_client(tmp_uploads)
    post(client, text_image(["x"]))
    post(client, text_pdf([["x"], ["y"]]))
    for call in parser.calls:
        assert call["path"].parent == tmp_uploads and call["mode"] == 0o600
        assert call["path"].name.startswith("mineru-")
        assert not call["path"].exists()
    assert [c["path"].suffix for c in parser.calls] == [".png", ".pdf"]
    assert list(tmp_uploads.iterdir()) == []


def test_a_page_count_mineru_does_not_explain_is_an_error(tmp_uploads):
    parser = StandInParser(document=pages_of(fixture(), [0]))  # one page whatever the PDF has
    client, _ = make_client(tmp_uploads, parser)
    response = post(client, text_pdf([["a"], ["b"]]))
    assert (
        response.status_code == 500
        and "mineru returned 1 pages for 2 requested" in response.get_json()["error"]["message"]
    )


def test_health_lists_the_ready_tiers_and_the_queue(tmp_uploads):
    client, _ = make_client(
        tmp_uploads,
        StandInParser(missing={"advanced": "no VLM", "standard": "no VLM"}),
        tier="basic",
        vlm_server_url="http://127.0.0.1:30000",
    )
    body = client.get("/health").get_json()
    validate(body, "backend_health")
    assert body["status"] == "healthy" and body["model_loaded"] is True and body["reason"] is None
    assert body["tiers_ready"] == {"flash": True, "basic": True, "standard": False, "advanced": False}
    assert body["default_tier"] == "basic" and body["mineru_version"] == "4.0.12"
    assert body["vlm_server_url"] == "http://127.0.0.1:30000"
    assert (body["in_flight"], body["queued"], body["max_concurrency"]) == (0, 0, 1)


def test_without_models_the_server_answers_503_with_minerus_reason(tmp_uploads):
    missing = {tier: NO_MODELS for tier in ("flash", "basic", "standard", "advanced")}
    client, parser = make_client(tmp_uploads, StandInParser(missing=missing))
    health = client.get("/health").get_json()
    validate(health, "backend_health")
    assert health["model_loaded"] is False and health["status"] == "unavailable"
    assert health["reason"] == NO_MODELS
    assert health["tiers_ready"] == {"flash": False, "basic": False, "standard": False, "advanced": False}
    response = post(client, text_image(["x"]))
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "model_not_loaded" and error["retryable"] is True
    assert error["message"] == f"mineru model is not loaded: {NO_MODELS}"
    assert parser.calls == [] and list(tmp_uploads.iterdir()) == []


def test_an_invalid_tier_is_a_400_even_without_models(tmp_uploads):
    client, parser = make_client(tmp_uploads, StandInParser(missing={"standard": NO_MODELS}))
    assert client.get("/health").get_json()["model_loaded"] is False
    response = post(client, text_image(["x"]), tier="turbo")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_option"
    assert parser.calls == []


def test_without_mineru_installed_health_still_answers_with_the_reason(tmp_uploads):
    class NotInstalled(StandInParser):
        def prepare(self):
            raise ModuleNotFoundError("No module named 'mineru'")

        def missing_models(self, tier):
            raise AssertionError("MinerU's model checks need MinerU")

    client, _ = make_client(tmp_uploads, NotInstalled())
    response = client.get("/health")
    assert response.status_code == 200
    health = response.get_json()
    validate(health, "backend_health")
    assert health["model_loaded"] is False and health["reason"] == "No module named 'mineru'"
    assert "tiers_ready" not in health
    assert post(client, text_image(["x"])).status_code == 503


def test_a_tier_whose_models_are_missing_is_a_503_while_the_default_works(tmp_uploads):
    client, parser = make_client(tmp_uploads, StandInParser(missing={"advanced": "VLM weights missing"}))
    assert post(client, text_image(["x"])).status_code == 200
    response = post(client, text_image(["x"]), tier="advanced")
    assert response.status_code == 503
    assert response.get_json()["error"]["message"] == "mineru model is not loaded: VLM weights missing"
    assert len(parser.calls) == 1


def test_requests_beyond_the_limit_queue_one_at_a_time(tmp_uploads):
    client, parser = make_client(tmp_uploads, StandInParser(delay=0.3))
    statuses, seen_queued = [], []

    def send():
        statuses.append(post(client, text_image(["x"])).status_code)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        seen_queued.append(client.get("/health").get_json()["queued"])
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    assert statuses == [200, 200, 200] and parser.peak == 1 and max(seen_queued) >= 1
    assert list(tmp_uploads.iterdir()) == []


def test_the_figure_in_source_markdown_is_cut_from_the_uploaded_image(tmp_uploads):
    client, _ = make_client(tmp_uploads)
    image = Image.new("RGB", (500, 400), "white")
    image.paste((10, 200, 30), (100, 240, 400, 340))  # the fixture's figure: 0.2-0.8 x 0.6-0.85
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    body = post(client, buffer.getvalue()).get_json()
    uri = body["source_markdown"].split("![](")[1].split(")")[0]
    crop = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert crop.size == (300, 100) and crop.convert("RGB").getcolors() == [(300 * 100, (10, 200, 30))]


def test_memory_does_not_grow_with_requests(tmp_uploads):
    # Our side of "memory must not grow": nothing of a request (upload, temp file, result) is kept.
    # MinerU's own heap (models, malloc_trim) needs the real models and is not measured here.
    import gc
    import tracemalloc

    client, parser = make_client(tmp_uploads)
    pdf = text_pdf([["a"], ["b"]])

    def burst(count):
        for _ in range(count):
            assert post(client, pdf).status_code == 200
        parser.calls.clear()
        gc.collect()

    burst(5)  # warm caches (schema validators, Flask, MinerU's renderer)
    tracemalloc.start()
    try:
        burst(3)
        before = tracemalloc.get_traced_memory()[0]
        burst(20)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 500_000, f"grew by {after - before} bytes over 20 requests"
    assert list(tmp_uploads.iterdir()) == []
