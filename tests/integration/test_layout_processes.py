"""Pages of each layout kind through the real rapidocr and tesseract backend processes (gunicorn on
loopback): reading order, table rows, receipt rows and slide titles against the pages' true text."""

from __future__ import annotations

import re

import pytest
import requests

from tests.support.documents import cer
from tests.support.layout_pages import Page, make_page, plain_text, png
from tests.support.processes import start_backend, wait_healthy
from tests.support.schema import validate

pytestmark = pytest.mark.integration

BACKENDS = ("rapidocr", "tesseract")


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    logs = tmp_path_factory.mktemp("layout-logs")
    services = {name: start_backend(name, logs) for name in BACKENDS}
    try:
        for service in services.values():
            wait_healthy(service)
        yield {name: service.url for name, service in services.items()}
    finally:
        for service in services.values():
            service.stop()


def read(url: str, page: Page) -> dict:
    response = requests.post(url + "/ocr", files={"file": ("page.png", png(page))}, timeout=180)
    body = response.json()
    assert response.status_code == 200, body
    validate(body)
    return body


def lines_of(markdown: str) -> list[str]:
    return [" ".join(plain_text(line).split()) for line in markdown.splitlines() if plain_text(line).strip()]


def close(truth: str, answer: str) -> bool:
    """The same text up to a few misread characters (recognition, not order, is off)."""
    return cer(truth, answer) < 0.1


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["columns_2", "columns_3"])
def test_columns_read_one_after_the_other(backends, backend, kind):
    """Seed 3 has the tightest gutter (1.6 em), which the detector's grown line boxes nearly close."""
    page = make_page(kind, seed=3)
    body = read(backends[backend], page)
    error = cer(page.truth, plain_text(body["markdown"]))
    assert error < 0.03, (error, body["markdown"])
    types = [block["type"] for block in body["pages"][0]["blocks"]]
    assert types[0] == "header" or backend == "tesseract", types  # Tesseract's own layout has no headers


@pytest.mark.parametrize("kind", ["table_ruled", "table_plain"])
def test_table_rows_come_back_in_order_as_a_table(backends, kind):
    page = make_page(kind, seed=2)
    body = read(backends["rapidocr"], page)
    rows = [line for line in body["markdown"].splitlines() if line.startswith("|") and "---" not in line]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    assert [len(row) for row in cells] == [len(row) for row in page.table], body["markdown"]
    assert all(close(" ".join(want), " ".join(got)) for want, got in zip(page.table, cells, strict=True)), cells
    assert cells[0] == page.table[0]  # the header row exactly
    assert "table" in {block["type"] for block in body["pages"][0]["blocks"]}
    assert cer(page.truth, plain_text(body["markdown"])) < 0.02


@pytest.mark.parametrize("kind", ["table_ruled", "table_plain"])
def test_tesseract_reads_table_rows_whole_and_in_order(backends, kind):
    page = make_page(kind, seed=2)
    found = lines_of(read(backends["tesseract"], page)["markdown"])
    positions = [next((i for i, line in enumerate(found) if close(" ".join(row), line)), -1) for row in page.table]
    assert -1 not in positions and positions == sorted(positions), found


@pytest.mark.parametrize("backend", BACKENDS)
def test_receipt_label_and_amount_stay_one_line(backends, backend):
    page = make_page("receipt", seed=0)
    body = read(backends[backend], page)
    found = lines_of(body["markdown"])
    rows = [row for row in page.truth.split("\n") if re.search(r"\d\.\d\d$", row)]
    assert len(rows) == 12 and all(any(close(row, line) for line in found) for row in rows), found
    assert cer(page.truth, plain_text(body["markdown"])) < 0.03


@pytest.mark.parametrize("backend", BACKENDS)
def test_form_fields_read_row_by_row(backends, backend):
    page = make_page("form", seed=2)
    body = read(backends[backend], page)
    assert cer(page.truth, plain_text(body["markdown"])) < 0.03, body["markdown"]


def test_slide_title_is_a_heading_then_its_bullets(backends):
    page = make_page("slide", seed=5)
    body = read(backends["rapidocr"], page)
    title, bullets = page.truth.split("\n\n")
    assert body["markdown"].startswith(f"# {title}\n\n"), body["markdown"]
    assert body["pages"][0]["blocks"][0]["type"] == "title"
    assert cer(bullets, plain_text(body["markdown"].split("\n\n", 1)[1])) < 0.03
