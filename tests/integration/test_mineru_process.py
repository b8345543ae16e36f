"""The real MinerU backend process under gunicorn behind the real orchestrator, as `make run` has it
on a machine without a GPU or model files: MinerU's own ``parse()`` reads generated born-digital
PDFs at the flash tier (text, block types, boxes in page pixels, page numbers, figures, a page range,
a page without a text layer, the orchestrator's 8-page slices), and what needs models is a 503 with
the command that installs them."""

from __future__ import annotations

import re

import pytest
import requests

from shared.api_contract import PAGE_SEPARATOR
from tests.support.documents import text_image
from tests.support.mineru import recorded
from tests.support.mineru_documents import REPORT_TEXT, long_pdf, report_pdf, truncated_pdf
from tests.support.processes import backend_behind_orchestrator, wait_healthy
from tests.support.schema import validate

pytestmark = pytest.mark.integration

A4 = (1190, 1684)  # 595 x 842 pt at the default 144 dpi
LINK = re.compile(r"!\[\]\((images/[0-9a-f]{16}\.jpg)\)")


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
    with backend_behind_orchestrator("mineru", logs, env=env) as (backend, orchestrator):
        wait_healthy(backend, timeout=120)
        yield backend, orchestrator, base


def ocr(url: str, data: bytes, name: str = "report.pdf", **fields: str) -> tuple[int, dict]:
    response = requests.post(
        url + "/ocr", files={"file": (name, data)}, data={"backend": "mineru", "cache": "false", **fields}, timeout=120
    )
    body = response.json()
    validate(body)
    return response.status_code, body


def test_health_is_flash_on_this_machine(mineru_system):
    backend, orchestrator, _ = mineru_system
    health = requests.get(backend.url + "/health", timeout=5).json()
    validate(health, "backend_health")
    assert health["status"] == "healthy" and health["default_tier"] == "flash" and health["device"] == "cpu"
    assert health["tiers_ready"] == {"flash": True, "basic": False, "standard": False, "advanced": False}
    assert health["load_seconds"] > 0  # the warm-up parse ran before it said healthy
    listed = requests.get(orchestrator.url + "/backends?refresh=1", timeout=10).json()
    assert next(b for b in listed["backends"] if b["name"] == "mineru")["status"] == "healthy"


def test_a_born_digital_pdf_through_the_orchestrator_is_minerus_own_reading(mineru_system):
    _, orchestrator, _ = mineru_system
    status, body = ocr(orchestrator.url, report_pdf())
    assert status == 200, body
    pages = body["pages"]
    assert [p["page"] for p in pages] == [1, 2, 3, 4] and all((p["width"], p["height"]) == A4 for p in pages)
    assert all(p["source"] == "backend" for p in pages)
    # the text, as MinerU reads it, in its own markdown: headings, the paragraph, the pipe table
    first = pages[0]["markdown"]
    assert first.startswith("# Quarterly Report\n\n## 1. Results\n\nRevenue grew by twelve percent year over year.")
    assert "| Quarter | Revenue | Cost |\n| --- | --- | --- |\n| Q1 | 10 | 7 |\n| Q2 | 12 | 7 |" in first
    for number, lines in enumerate(REPORT_TEXT):
        text = " ".join(b["text"] for b in pages[number]["blocks"])
        assert all(line in text for line in lines), (number, text)
    # block types and boxes in the page's pixels, from MinerU's 0-1 boxes
    mineru_page = recorded()["pages"][0]["blocks"]
    title = pages[0]["blocks"][0]
    assert title["type"] == "doc_title" and title["bbox"] == [
        round(v * A4[i % 2], 1) for i, v in enumerate(mineru_page[0]["bbox"])
    ]
    assert [b["type"] for b in pages[0]["blocks"]] == [
        "doc_title", "paragraph_title", "text", "table", "table_caption", "image", "image_caption", "page_number"
    ]  # fmt: skip
    assert "2" not in pages[1]["markdown"].split("\n")  # the page number is a block, not text
    # figures: MinerU's own crops, links in markdown, embedded in source_markdown; the page with no
    # text layer is one picture of the whole page
    assert [len(LINK.findall(p["markdown"])) for p in pages] == [1, 0, 1, 0]
    assert [b["type"] for b in pages[2]["blocks"]] == ["image"] and pages[2]["blocks"][0]["bbox"] == [0, 0, *A4]
    assert "data:" not in body["markdown"] and body["source_markdown"].count("](data:image/jpeg;base64,") == 2
    assert body["markdown"] == PAGE_SEPARATOR.join(p["markdown"] for p in pages)


def test_a_page_range_keeps_the_documents_page_numbers(mineru_system):
    _, orchestrator, _ = mineru_system
    status, body = ocr(orchestrator.url, report_pdf(), page_range="2-3", ocr_mode="txt")
    assert status == 200, body
    assert [p["page"] for p in body["pages"]] == [2, 3]
    # (on two pages alone MinerU takes the page number "2" for a line of text)
    assert body["pages"][0]["markdown"].startswith("## 2. Outlook\n\nWe expect revenue to keep growing next year.")
    assert [b["type"] for b in body["pages"][1]["blocks"]] == ["image"]


def test_figures_of_different_slices_get_different_names(mineru_system):
    _, orchestrator, _ = mineru_system
    status, body = ocr(orchestrator.url, long_pdf(), name="long.pdf")
    assert status == 200, body
    assert [p["page"] for p in body["pages"]] == list(range(1, 11))
    assert len(body["raw_result"]["mineru"]["slices"]) == 2  # pages 1-8 and 9-10: two MinerU documents
    first, ninth = (LINK.findall(body["pages"][i]["markdown"]) for i in (0, 8))
    assert len(first) == len(ninth) == 1 and first != ninth


def test_what_needs_models_is_a_503_naming_mineru_with_the_command(mineru_system):
    _, orchestrator, base = mineru_system
    for data, name, fields in [
        (text_image(["Hello"]), "page.png", {}),
        (report_pdf(), "report.pdf", {"tier": "basic"}),
        (report_pdf(), "report.pdf", {"page_range": "2-3"}),  # MinerU decides these pages need OCR
    ]:
        status, body = ocr(orchestrator.url, data, name=name, **fields)
        assert status == 503 and body["backend"] == "mineru", body
        message = body["error"]["message"]
        assert (
            f"Run: MINERU_MODEL_BASE_DIR={base / 'models'} " in message
            and "--tier basic --small-backend onnx" in message
        )
    assert list((base / "uploads").iterdir()) == []


def test_a_pdf_only_pymupdf_can_repair_is_a_422_from_the_backend(mineru_system):
    backend, _, _ = mineru_system
    status, body = ocr(backend.url, truncated_pdf())
    assert status == 422 and body["error"]["code"] == "corrupt_file", body
