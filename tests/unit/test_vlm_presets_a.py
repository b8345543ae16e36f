"""VLM presets qwen2.5-vl, qwen3-vl, dots-ocr, paddleocr-vl, olmocr-2: recorded real answers parse
into the contract (boxes on the page, expected text, mapped types), malformed answers never raise,
and ``scale_box`` reads boxes one way for all of them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from backends.vlm_backend.presets import preset, presets
from backends.vlm_backend.presets.base import PageFrame, ParsedPage, scale_box
from shared.layout import BLOCK_TYPES, CAPTION, FIGURE, TABLE, TEXT, TITLE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vlm"


def fixture(name: str, file: str) -> str:
    return (FIXTURES / name / file).read_text(encoding="utf-8")


def frame(width: int, height: int, sent_width: int, sent_height: int, mode: str) -> PageFrame:
    return PageFrame(width=width, height=height, sent_width=sent_width, sent_height=sent_height, mode=mode)


def assert_on_page(page: ParsedPage, where: PageFrame) -> None:
    for block in page.blocks:
        x1, y1, x2, y2 = block.bbox
        assert 0 <= x1 < x2 <= where.width and 0 <= y1 < y2 <= where.height, block
        assert block.type in BLOCK_TYPES, block


def by_type(page: ParsedPage, kind: str) -> list[str]:
    return [block.text for block in page.blocks if block.type == kind]


# --- scale_box


def test_scale_box_scales_from_the_grid_to_the_page() -> None:
    page = frame(2000, 1000, 1000, 500, "x")
    assert scale_box([100, 50, 300, 250], 1000, 500, page) == (200.0, 100.0, 600.0, 500.0)
    assert scale_box((0, 0, 1000, 1000), 1000, 1000, page) == (0.0, 0.0, 2000.0, 1000.0)


def test_scale_box_clamps_to_the_page_and_orders_corners() -> None:
    page = frame(100, 100, 100, 100, "x")
    assert scale_box([-10, -5, 150, 120], 100, 100, page) == (0.0, 0.0, 100.0, 100.0)
    assert scale_box([80, 90, 10, 20], 100, 100, page) == (10.0, 20.0, 80.0, 90.0)


@pytest.mark.parametrize(
    "box",
    [None, [1, 2, 3], [1, 2, 3, 4, 5], [1, 2, "x", 4], [1, 2, math.nan, 4], [1, 2, math.inf, 4],
     [True, 0, 5, 5], [5, 5, 5, 9], [200, 200, 300, 300], "1 2 3 4", {"x": 1}],
)  # fmt: skip
def test_scale_box_is_none_for_what_is_not_a_box(box: object) -> None:
    assert scale_box(box, 100, 100, frame(100, 100, 100, 100, "x")) is None


# --- the registry


EXPECTED_MODES = {
    "qwen2.5-vl": ("markdown", {"markdown", "html", "ocr"}),
    "dots-ocr": ("layout-all", {"layout-all", "layout-only", "ocr"}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_MODES))
def test_preset_modes_and_defaults(name: str) -> None:
    found = preset(name)
    default, modes = EXPECTED_MODES[name]
    assert found.name == name and found.default_mode == default
    assert set(found.modes) == modes
    assert all(mode.prompt.strip() and mode.description for mode in found.modes.values())
    assert found.sampling.max_tokens > 0 and found.image.max_pixels and found.image.min_pixels
    assert name in presets()


# --- qwen2.5-vl


def test_qwen25_html_fixture_blocks_and_text() -> None:
    where = frame(1014, 1532, 1008, 1540, "html")
    page = preset("qwen2.5-vl").parse(fixture("qwen2.5-vl", "docparsing_example6.qwenvl.html"), where)
    assert page.warnings == []
    assert_on_page(page, where)
    assert by_type(page, TITLE) == ["Qwen2.5 Technical Report", "Abstract"]
    assert len(by_type(page, FIGURE)) == 2
    assert page.blocks[0].bbox == pytest.approx(
        (310 * 1014 / 1008, 94 * 1532 / 1540, 658 * 1014 / 1008, 132 * 1532 / 1540)
    )
    assert page.markdown.startswith("## Qwen2.5 Technical Report\n\nQwen Team\n\n## Abstract")
    assert "Figure 1: In the iterative development of the Qwen series" in page.markdown
    assert "data-bbox" not in page.markdown and "<img" not in page.markdown


def test_qwen25_plain_ocr_fixture_is_markdown_without_blocks() -> None:
    where = frame(800, 1180, 812, 1176, "ocr")
    page = preset("qwen2.5-vl").parse(fixture("qwen2.5-vl", "ocr_example2.txt"), where)
    assert page.blocks == [] and page.warnings == []
    assert page.markdown.startswith("Auntie Anne's\nCINNAMON SUGAR")
    assert "GRAND TOTAL\n17,000" in page.markdown


def test_qwen25_html_cut_short_or_with_bad_boxes_never_raises() -> None:
    where = frame(100, 100, 100, 100, "html")
    answer = (
        '```html\n<html><body><h1 data-bbox="1 2 3">Head</h1><p data-bbox="nan 0 10 10">Odd</p>'
        '<table data-bbox="0 0 50 50"><tr><td data-bbox="0 0 5 5">A1</td></tr></table>'
        '<p>loose text</p><p data-bbox="10 10 90 40">Cut in the mid'
    )
    page = preset("qwen2.5-vl").parse(answer, where)
    assert [b.type for b in page.blocks] == [TABLE, TEXT]
    assert page.blocks[0].text == "<table><tr><td>A1</td></tr></table>"
    assert page.blocks[1].text == "Cut in the mid"
    assert "# Head" in page.markdown and "Odd" in page.markdown and "loose text" in page.markdown
    assert len(page.warnings) == 4, page.warnings


# --- dots-ocr

DOTS_SIMPLE = frame(1224, 1584, 1232, 1596, "layout-all")
DOTS_LIST = frame(1190, 1684, 1176, 1680, "layout-all")


def test_dots_fixture_simple_types_text_and_boxes() -> None:
    page = preset("dots-ocr").parse(fixture("dots-ocr", "dots_simple.json"), DOTS_SIMPLE)
    assert_on_page(page, DOTS_SIMPLE)
    assert len(page.blocks) == 17
    assert by_type(page, TITLE)[0] == "DocLayNet: A Large Human-Annotated Dataset for Document-Layout Analysis"
    assert "ABSTRACT" in by_type(page, TITLE) and "KEYWORDS" in by_type(page, TITLE)
    assert by_type(page, CAPTION) == [
        "**Figure 1:** Four examples of complex page layouts across different document categories"
    ]
    assert by_type(page, FIGURE) == [""]
    assert page.markdown.startswith("arXiv:2206.01062v1 [cs.CV] 2 Jun 2022\n\n# DocLayNet")
    assert "\n\n## ABSTRACT\n\n" in page.markdown
    assert page.warnings == ["JSON list not closed (answer cut short?): its 17 complete items kept"]
    picture = next(b for b in page.blocks if b.type == FIGURE)
    assert picture.bbox == pytest.approx((636 * 1224 / 1232, 495 * 1584 / 1596, 1127 * 1224 / 1232, 1065 * 1584 / 1596))


def test_dots_fixture_list_items_read_as_text() -> None:
    page = preset("dots-ocr").parse(fixture("dots-ocr", "dots_list.json"), DOTS_LIST)
    assert_on_page(page, DOTS_LIST)
    assert by_type(page, TITLE) == [
        "The Evolution of the Word Processor",
        "Pre-Digital Era (19th - Early 20th Century)",
        "The Birth of Word Processing (1960s - 1970s)",
        "The Rise of Personal Computers (1980s)",
    ]
    assert any(text.startswith("* **IBM MT/ST") for text in by_type(page, TEXT))
    assert "* **WordStar (1978):**" in page.markdown


def test_dots_maps_every_category() -> None:
    categories = ["Caption", "Footnote", "Formula", "List-item", "Page-footer", "Page-header", "Picture",
                  "Section-header", "Table", "Text", "Title"]  # fmt: skip
    answer = "[" + ",".join(f'{{"bbox": [0, 0, 10, 10], "category": "{c}", "text": "x"}}' for c in categories) + "]"
    page = preset("dots-ocr").parse(answer, frame(100, 100, 100, 100, "layout-all"))
    assert [b.type for b in page.blocks] == [
        "caption", "text", "equation", "text", "footer", "header", "figure", "title", "table", "text", "title"
    ]  # fmt: skip
    assert page.warnings == []


def test_dots_formula_and_table_markdown() -> None:
    answer = (
        '[{"bbox": [0, 0, 50, 10], "category": "Formula", "text": "$$E = mc^2$$"},'
        ' {"bbox": [0, 10, 50, 60], "category": "Table", "text": "<table><tr><td>1</td></tr></table>"}]'
    )
    page = preset("dots-ocr").parse(answer, frame(100, 100, 100, 100, "layout-all"))
    assert page.markdown == "$$\nE = mc^2\n$$\n\n<table><tr><td>1</td></tr></table>"


@pytest.mark.parametrize(
    "answer",
    [
        '[{"bbox": [0, 0, 10, 10], "category": "Text", "text": "kept"}, {"bbox": [1, 2',
        '[{"bbox": [0, 0, 10, 10], "category": "Text", "text": "kept"}, {"bbox": [1, 2, 3], "category": "Text"}]',
        '[{"bbox": [0, 0, 10, 10], "category": "Text", "text": "kept"}, {"bbox": [NaN, 0, 5, 5], "category": "Text"}]',
        '[{"bbox": [0, 0, 10, 10], "category": "Text", "text": "kept"}, {"bbox": [0, 0, 5, 5], "category": "Sticker"}]',
        '```json\n[{"bbox": [0, 0, 10, 10], "category": "Text", "text": "kept"}, 7, {"bbox": "x"}]\n```',
    ],
)
def test_dots_malformed_answers_keep_what_they_can_with_warnings(answer: str) -> None:
    page = preset("dots-ocr").parse(answer, frame(100, 100, 100, 100, "layout-all"))
    assert page.blocks[0].text == "kept"
    assert page.warnings


@pytest.mark.parametrize("answer", ["", "   ", "[", "{", "[}", "null", '{"bbox": 1}', "[[[[", "]"])
def test_dots_garbage_never_raises(answer: str) -> None:
    page = preset("dots-ocr").parse(answer, frame(100, 100, 100, 100, "layout-all"))
    assert isinstance(page, ParsedPage)


def test_dots_ocr_mode_is_markdown() -> None:
    page = preset("dots-ocr").parse("Some text\n\nMore", frame(100, 100, 100, 100, "ocr"))
    assert page.markdown == "Some text\n\nMore" and page.blocks == []
