"""The MinerU backend through the real Flask app, with a stand-in parser in the backend's seam that
answers with MinerU's recorded real output (``tests/fixtures/mineru/``)."""

import base64
import io
import re
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
from tests.support.documents import text_image
from tests.support.mineru import MINERU_VERSION, ParseResult, StandInParser, as_image, pages_of, recorded
from tests.support.mineru_documents import report_pdf
from tests.support.multipart import multipart
from tests.support.schema import validate

NO_ONNX = "Model repo MinerU-4_models_onnx is not ready under /models/MinerU-4_models_onnx; missing: OCR/x.onnx"
NO_VLM = "Model repo MinerU2.5-Pro-2605-1.2B-GGUF is not ready under /models/x; missing: main.gguf"
FIGURE = re.compile(r"!\[\]\(images/[0-9a-f]{16}\.png\)")


@pytest.fixture
def tmp_uploads(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


def make_client(tmp_uploads, parser=None, restart=None, **config):
    parser = parser or StandInParser()
    config = {"tmp_dir": str(tmp_uploads), **config}
    backend = MinerUBackend(MineruConfig(**config), parser, restart=restart or (lambda: None))
    limits = UploadLimits(max_bytes=5_000_000, max_pixels=20_000_000, max_pdf_pages=20)
    app = create_backend_app(backend, BackendServerConfig(limits=limits, background_load=False))
    return app.test_client(), parser


def post(client, data, path="/ocr", name="doc.bin", **fields):
    body, content_type = multipart({"file": (name, data)}, fields)
    response = client.post(path, data=body, content_type=content_type)
    validate(response.get_json())
    return response


def requests_of(parser):
    """The parser's calls after load()'s warm-up."""
    return parser.calls[1:]


def page_sizes(pdf: bytes, dpi: int = 144) -> list[tuple[int, int]]:
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        return [(round(p.rect.width * dpi / 72), round(p.rect.height * dpi / 72)) for p in document]


def minerus_markdown(indices):
    return ParseResult.from_dict(pages_of(recorded(), indices)).markdown()


def test_load_warms_the_default_tier_up_before_health_says_healthy(tmp_uploads):
    client, parser = make_client(tmp_uploads, tier="flash")
    [warmup] = parser.calls
    assert (warmup["tier"], warmup["ocr_mode"], warmup["page_range"]) == ("flash", "txt", "")
    assert warmup["head"].startswith(b"%PDF") and not warmup["path"].exists()
    health = client.get("/health").get_json()
    assert health["status"] == "healthy" and health["model"] == f"MinerU {MINERU_VERSION} (flash)"


class WrongAnswer(StandInParser):
    """Parses, but answers with another page than the one it was given."""

    def parse(self, path, **settings):
        super().parse(path, **settings)
        return ParseResult.from_dict(as_image(recorded(), 1))


@pytest.mark.parametrize(
    "parser, reason",
    [
        (
            StandInParser(fail=RuntimeError("pdfium worker crashed")),
            "failed: mineru failed to parse the document: RuntimeError: pdfium worker crashed",
        ),
        (WrongAnswer(), "did not read its page: '## 2. Outlook"),
    ],
)
def test_a_warm_up_that_fails_leaves_the_model_not_loaded(tmp_uploads, parser, reason):
    client, _ = make_client(tmp_uploads, parser, tier="flash")
    health = client.get("/health").get_json()
    assert health["model_loaded"] is False and health["reason"].startswith("the warm-up parse at tier 'flash' ")
    assert reason in health["reason"]
    assert post(client, report_pdf()).status_code == 503


def test_an_image_goes_through_mineru_and_comes_back_in_the_contract(tmp_uploads):
    client, parser = make_client(tmp_uploads)
    image = text_image(["Quarterly Report"], width=1000)
    width, height = Image.open(io.BytesIO(image)).size
    response = post(client, image, name="report.png")
    assert response.status_code == 200
    body = response.get_json()
    assert body["backend"] == "mineru" and body["document_type"] == "image" and body["image_name"] == "report.png"
    assert body["model"] == f"MinerU {MINERU_VERSION} (standard)"  # auto: every tier's models are there
    [call] = requests_of(parser)
    assert (call["tier"], call["ocr_mode"], call["page_range"], call["head"]) == (
        "standard",
        "auto",
        "",
        b"\x89PNG\r\n\x1a\n",
    )
    [page] = body["pages"]
    assert (page["width"], page["height"]) == (width, height)
    assert page["blocks"][0] == {
        "type": "doc_title",
        "text": "Quarterly Report",
        "score": None,
        "bbox": [round(0.121 * width, 1), round(0.068 * height, 1), round(0.419 * width, 1), round(0.101 * height, 1)],
    }
    # markdown: MinerU's rendering of its page with the figure as a link; source_markdown embeds it
    link = FIGURE.search(body["markdown"])
    assert link and body["markdown"].replace(link.group(0) + "\n\n", "") == minerus_markdown([0])
    uri = body["source_markdown"].split("![](")[1].split(")")[0]
    assert (
        uri.startswith("data:image/png;base64,")
        and body["source_markdown"].replace(uri, link.group(0)[4:-1]) == body["markdown"]
    )
    assert body["boxes_image"].startswith("data:image/jpeg;base64,") and page["boxes_image"] == body["boxes_image"]
    raw = body["raw_result"]["mineru"]
    assert raw["content"] == ParseResult.from_dict(as_image(recorded())).to_dict()
    assert raw["metadata"] == {
        "tier": "standard",
        "ocr_mode": "auto",
        "page_range": "all",
        "version": MINERU_VERSION,
        "vlm_server_url": None,
    }
    assert {"mineru", "postprocess"} <= set(body["timings"])


def test_a_pdf_gives_one_page_per_mineru_page_in_its_rendered_size(tmp_uploads):
    client, parser = make_client(tmp_uploads, tier="flash")
    pdf = report_pdf()
    response = post(client, pdf, path="/ocr/pdf", name="report.pdf")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["document_type"] == "pdf" and body["options"]["dpi"] == 144
    sizes = page_sizes(pdf)
    assert [(p["width"], p["height"]) for p in body["pages"]] == sizes
    assert [p["page"] for p in body["pages"]] == [1, 2, 3, 4]
    (w2, h2) = sizes[1]
    assert body["pages"][1]["blocks"][0] == {
        "type": "paragraph_title",
        "text": "2. Outlook",
        "score": None,
        "bbox": [round(0.121 * w2, 1), round(0.077 * h2, 1), round(0.244 * w2, 1), round(0.099 * h2, 1)],
    }
    markdowns = [p["markdown"] for p in body["pages"]]
    assert body["markdown"] == PAGE_SEPARATOR.join(markdowns)
    assert [FIGURE.sub("", m).replace("\n\n\n\n", "\n\n").strip() for m in markdowns] == [
        minerus_markdown([i]) for i in range(4)
    ]
    assert [len(FIGURE.findall(m)) for m in markdowns] == [1, 0, 1, 0]  # the figure and the scanned page
    assert "data:" not in body["markdown"] and body["source_markdown"].count("![](data:image/png;base64,") == 2
    assert all(p["boxes_image"].startswith("data:image/jpeg;base64,") for p in body["pages"])
    [call] = requests_of(parser)
    assert call["page_range"] == "" and call["head"].startswith(b"%PDF")
    assert body["raw_result"]["mineru"]["content"]["pages"] == recorded()["pages"]


def test_a_page_range_is_checked_by_us_and_passed_to_mineru(tmp_uploads):
    client, parser = make_client(tmp_uploads, tier="flash")
    pdf = report_pdf()
    response = post(client, pdf, page_range="2-3", ocr_mode="txt")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert requests_of(parser)[0]["page_range"] == "2,3"
    assert [p["page"] for p in body["pages"]] == [1, 2]  # renumbered by the orchestrator, not here
    assert body["pages"][0]["markdown"] == minerus_markdown([1]) and body["pages"][1]["blocks"][0]["type"] == "image"
    assert body["raw_result"]["mineru"]["metadata"]["page_range"] == "2,3"
    assert body["options"]["page_range"] == "2-3"
    bad = post(client, pdf, page_range="5")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_option"
    assert len(requests_of(parser)) == 1  # a bad range never reaches MinerU


def test_pages_mineru_was_not_asked_for_are_an_error_not_a_wrong_page(tmp_uploads):
    parser = StandInParser()
    answers = iter([as_image(recorded("warmup")), pages_of(recorded(), [1, 3])])
    parser.parse = lambda path, **kw: ParseResult.from_dict(next(answers))
    client, _ = make_client(tmp_uploads, parser, tier="flash")
    response = post(client, report_pdf(), page_range="2-3")
    assert response.status_code == 500
    assert (
        response.get_json()["error"]["message"]
        == "mineru returned pages [2, 4] for pages [2, 3] of the file it was given"
    )


def test_boxes_image_can_be_left_out(tmp_uploads):
    client, _ = make_client(tmp_uploads)
    body = post(client, report_pdf(), boxes_image="false").get_json()
    assert body["boxes_image"] is None and all(p["boxes_image"] is None for p in body["pages"])


@pytest.mark.parametrize(
    "fields, tier, ocr_mode",
    [
        ({}, "standard", "auto"),
        ({"tier": "flash"}, "flash", "auto"),
        ({"tier": "basic", "ocr_mode": "ocr"}, "basic", "ocr"),
        ({"tier": "Advanced", "ocr_mode": "OCR"}, "advanced", "ocr"),
    ],
)
def test_tier_and_ocr_mode_options_reach_mineru(tmp_uploads, fields, tier, ocr_mode):
    client, parser = make_client(tmp_uploads)
    body = post(client, text_image(["x"]), **fields).get_json()
    assert body["success"] is True and body["warnings"] == []
    [call] = requests_of(parser)
    assert (call["tier"], call["ocr_mode"]) == (tier, ocr_mode)
    assert body["raw_result"]["mineru"]["metadata"]["tier"] == tier
    assert (body["options"]["tier"], body["options"]["ocr_mode"]) == (tier, ocr_mode)  # what it ran with


def test_the_default_tier_comes_from_the_configuration(tmp_uploads):
    client, parser = make_client(tmp_uploads, tier="basic", ocr_mode="ocr")
    body = post(client, text_image(["x"])).get_json()
    assert body["model"] == f"MinerU {MINERU_VERSION} (basic)"
    assert (requests_of(parser)[0]["tier"], requests_of(parser)[0]["ocr_mode"]) == ("basic", "ocr")


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
            "tier": "option 'tier' of backend 'mineru' must be one of flash, basic, standard, advanced, got 'turbo'",
            "ocr_mode": "option 'ocr_mode' of backend 'mineru' must be one of auto, txt, ocr, got 'vision'",
        }[named]
    )
    assert requests_of(parser) == []


def test_ocr_mode_txt_on_an_image_is_a_400_saying_why(tmp_uploads):
    # MinerU would answer with the picture as one figure and no text: the client asked for nothing.
    client, parser = make_client(tmp_uploads)
    response = post(client, text_image(["x"]), ocr_mode="txt")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_option" and error["message"].startswith(
        "ocr_mode=txt reads a PDF's text layer and an image has none"
    )
    assert requests_of(parser) == [] and list(tmp_uploads.iterdir()) == []


@pytest.mark.parametrize(
    "failure, status, code, retryable, message",
    [
        (
            RuntimeError("CUDA out of memory"),
            500,
            "inference_failed",
            True,
            "mineru failed to parse the document: RuntimeError: CUDA out of memory",
        ),
        (
            TypeError("unsupported operand"),
            500,
            "library_bug",
            False,
            "mineru failed on this document with a bug: TypeError: unsupported operand",
        ),
    ],
)
@pytest.mark.parametrize("document", ["image", "pdf"])
def test_a_mineru_failure_is_a_json_error_naming_mineru_and_leaves_no_file(
    tmp_uploads, document, failure, status, code, retryable, message
):
    parser = StandInParser()
    client, _ = make_client(tmp_uploads, parser)
    parser.fail = failure
    response = post(client, text_image(["x"]) if document == "image" else report_pdf())
    assert response.status_code == status
    body = response.get_json()
    assert body["backend"] == "mineru" and body["error"] == {"code": code, "message": message, "retryable": retryable}
    assert len(requests_of(parser)) == 1 and list(tmp_uploads.iterdir()) == []


def test_a_pdf_pdfium_refuses_is_a_422_corrupt_file(tmp_uploads):
    from pypdfium2 import PdfiumError

    parser = StandInParser()
    client, _ = make_client(tmp_uploads, parser)
    parser.fail = PdfiumError("Failed to load document (PDFium: Data format error).")
    response = post(client, report_pdf())
    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "corrupt_file",
        "message": "the PDF cannot be read by mineru's PDF engine (pdfium): "
        "Failed to load document (PDFium: Data format error).",
        "retryable": False,
    }


def test_models_mineru_finds_missing_while_parsing_are_a_503_with_the_full_reason(tmp_uploads):
    # flash + auto: MinerU itself decides that a PDF with little text needs OCR, and only then
    # reaches for models that are not there (FileNotFoundError naming the first repository).
    parser = StandInParser(missing={"basic": f"{NO_ONNX}. Run: install-basic", "standard": NO_VLM})
    client, _ = make_client(tmp_uploads, parser)
    parser.fail = FileNotFoundError(NO_ONNX)
    response = post(client, report_pdf(), page_range="2-3")
    assert response.status_code == 503
    assert response.get_json()["error"] == {
        "code": "model_not_loaded",
        "message": f"mineru model is not loaded: {NO_ONNX}. Run: install-basic",
        "retryable": True,
    }


def test_a_dead_vlm_engine_makes_the_backend_not_ready_and_restarts_it(tmp_uploads):
    from mineru.model.vlm.errors import EngineDeadError

    restarts = []
    parser = StandInParser()
    client, _ = make_client(tmp_uploads, parser, restart=lambda: restarts.append(1))
    parser.fail = RuntimeError("request failed")
    parser.fail.__cause__ = EngineDeadError("EngineCore encountered an issue")
    first = post(client, report_pdf())
    assert first.status_code == 503 and first.get_json()["error"]["code"] == "model_not_loaded"
    assert "MinerU's VLM engine died (RuntimeError: request failed)" in first.get_json()["error"]["message"]
    health = client.get("/health").get_json()
    assert health["model_loaded"] is False and health["status"] == "unavailable"
    assert health["reason"].endswith("this worker process exits and is started again with a new engine")
    assert client.get("/ready").status_code == 503
    assert post(client, report_pdf()).status_code == 503
    assert restarts == [1] and len(requests_of(parser)) == 1  # the second never reached the dead engine


def test_a_request_mineru_refuses_is_a_400_naming_mineru(tmp_uploads):
    from mineru.errors import InvalidRequestError

    parser = StandInParser()
    client, _ = make_client(tmp_uploads, parser)
    parser.fail = InvalidRequestError("page_range_invalid", "Page range is only supported for PDF files", "page_range")
    response = post(client, report_pdf())
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_option" and error["message"].startswith("mineru refused the request: ")
    assert "Page range is only supported for PDF files" in error["message"]
    assert list(tmp_uploads.iterdir()) == []


def test_uploads_are_private_temp_files_removed_after_each_request(tmp_uploads):
    client, parser = make_client(tmp_uploads)
    post(client, text_image(["x"]))
    post(client, report_pdf())
    for call in parser.calls:
        assert call["path"].parent == tmp_uploads and call["mode"] == 0o600
        assert call["path"].name.startswith("mineru-")
        assert not call["path"].exists()
    assert [c["path"].suffix for c in requests_of(parser)] == [".png", ".pdf"]
    assert list(tmp_uploads.iterdir()) == []


def test_a_missing_upload_folder_is_made_again_not_a_500(tmp_uploads):
    folder = tmp_uploads / "gone"
    client, _ = make_client(tmp_uploads, tmp_dir=str(folder))  # made by load()'s warm-up
    folder.rmdir()  # and removed while the server runs
    assert post(client, report_pdf()).status_code == 200
    assert folder.is_dir() and (folder.stat().st_mode & 0o777) == 0o700


def test_health_gives_each_tiers_readiness_and_the_queue(tmp_uploads):
    client, _ = make_client(
        tmp_uploads, StandInParser(missing={"standard": NO_VLM}), vlm_server_url="http://127.0.0.1:30000"
    )
    body = client.get("/health").get_json()
    validate(body, "backend_health")
    assert body["status"] == "healthy" and body["model_loaded"] is True and body["reason"] is None
    assert body["tiers_ready"] == {"flash": True, "basic": True, "standard": False, "advanced": False}
    assert body["scans_ready"] is True
    assert body["missing_models"] == {"standard": NO_VLM, "advanced": NO_VLM}
    assert body["default_tier"] == "basic" and body["model"] == f"MinerU {MINERU_VERSION} (basic)"  # auto
    assert body["mineru_version"] == MINERU_VERSION and body["vlm_server_url"] == "http://127.0.0.1:30000"
    assert (body["in_flight"], body["queued"], body["max_concurrency"]) == (0, 0, 1)


def test_without_any_models_auto_serves_flash_and_refuses_what_needs_more(tmp_uploads):
    missing = {"basic": f"{NO_ONNX}. Run: install-basic", "standard": f"{NO_ONNX}. {NO_VLM}. Run: install-standard"}
    client, parser = make_client(tmp_uploads, StandInParser(missing=missing))
    health = client.get("/health").get_json()
    assert health["status"] == "healthy" and health["default_tier"] == "flash"
    assert health["tiers_ready"] == {"flash": True, "basic": False, "standard": False, "advanced": False}
    assert health["scans_ready"] is False
    assert post(client, report_pdf()).status_code == 200  # a born-digital PDF at flash
    for fields, document, reason in [
        ({}, text_image(["x"]), missing["basic"]),  # an image has no text layer: flash OCRs it
        ({"ocr_mode": "ocr"}, report_pdf(), missing["basic"]),
        ({"tier": "basic"}, report_pdf(), missing["basic"]),
        ({"tier": "advanced"}, report_pdf(), missing["standard"]),
    ]:
        response = post(client, document, **fields)
        assert response.status_code == 503, fields
        assert response.get_json()["error"]["message"] == f"mineru model is not loaded: {reason}"
    assert len(requests_of(parser)) == 1


def test_a_default_tier_without_models_waits_for_them_and_loads_without_a_restart(tmp_uploads):
    parser = StandInParser(missing={"standard": f"{NO_VLM}. Run: install-standard"})
    client, _ = make_client(tmp_uploads, parser, tier="standard")
    health = client.get("/health").get_json()
    assert health["model_loaded"] is False and health["status"] == "unavailable"
    assert health["reason"].startswith(f"{NO_VLM}. Run: install-standard. The server picks the models up")
    assert health["reason"].endswith("MINERU_TIER=auto would serve the tiers ready now (flash, basic)")
    assert health["tiers_ready"] == {"flash": True, "basic": True, "standard": False, "advanced": False}
    assert post(client, report_pdf()).status_code == 503
    parser.missing = {}  # `mineru-kit models download --tier standard` has run
    deadline = time.monotonic() + 10
    while client.get("/health").get_json()["status"] != "healthy" and time.monotonic() < deadline:
        time.sleep(0.05)
    health = client.get("/health").get_json()
    assert health["status"] == "healthy" and health["tiers_ready"]["standard"] is True
    assert post(client, report_pdf()).status_code == 200


def test_an_invalid_tier_is_a_400_even_without_models(tmp_uploads):
    client, parser = make_client(tmp_uploads, StandInParser(missing={"standard": NO_VLM}), tier="standard")
    assert client.get("/health").get_json()["model_loaded"] is False
    response = post(client, text_image(["x"]), tier="turbo")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_option"
    assert parser.calls == []


def test_without_mineru_installed_health_still_answers_with_the_reason(tmp_uploads):
    class NotInstalled(StandInParser):
        def prepare(self):
            raise ModuleNotFoundError("No module named 'mineru'")

        def missing_models(self, tier, *, ocr):
            raise AssertionError("MinerU's model checks need MinerU")

    client, _ = make_client(tmp_uploads, NotInstalled())
    response = client.get("/health")
    assert response.status_code == 200
    health = response.get_json()
    validate(health, "backend_health")
    assert health["model_loaded"] is False and health["reason"] == "No module named 'mineru'"
    assert "tiers_ready" not in health
    assert post(client, text_image(["x"])).status_code == 503


def test_requests_beyond_the_limit_queue_one_at_a_time(tmp_uploads):
    parser = StandInParser()
    client, _ = make_client(tmp_uploads, parser)
    parser.delay = 0.3
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
    image = Image.new("RGB", (1000, 1000), "white")
    image.paste((10, 200, 30), (122, 380, 625, 602))  # the recorded figure: 0.122-0.625 x 0.38-0.602
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    body = post(client, buffer.getvalue()).get_json()
    uri = body["source_markdown"].split("![](")[1].split(")")[0]
    crop = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert crop.size == (503, 222) and crop.convert("RGB").getcolors() == [(503 * 222, (10, 200, 30))]


def test_memory_does_not_grow_with_requests(tmp_uploads):
    # Our side of "memory must not grow": nothing of a request (upload, temp file, result) is kept.
    # MinerU's own heap (models, malloc_trim) needs the real models and is not measured here.
    import gc
    import tracemalloc

    client, parser = make_client(tmp_uploads, tier="flash")
    pdf = report_pdf()

    def burst(count):
        for _ in range(count):
            assert post(client, pdf, page_range="1-2").status_code == 200
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
