"""VLM presets qwen2.5-vl, qwen3-vl, dots-ocr, paddleocr-vl, olmocr-2: recorded real answers parse
into the contract (boxes on the page, expected text, mapped types); for every preset, cut fixtures
and malformed answers never raise; ``scale_box`` and the shared OTSL and markdown helpers."""

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
    "qwen3-vl": ("markdown", {"markdown", "html", "ocr"}),
    "dots-ocr": ("layout-all", {"layout-all", "layout-only", "ocr"}),
    "paddleocr-vl": ("ocr", {"ocr", "table", "formula", "chart"}),
    "olmocr-2": ("page", {"page"}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_MODES))
def test_preset_modes_and_defaults(name: str) -> None:
    found = preset(name)
    default, modes = EXPECTED_MODES[name]
    assert found.name == name and found.default_mode == default
    assert set(found.modes) == modes
    assert all(mode.prompt.strip() and mode.description for mode in found.modes.values())
    assert found.sampling.max_tokens > 0 and found.image.factor in (28, 32)
    assert found.image.max_pixels or found.image.longest_side
    assert name in presets()


def test_settings_from_the_sources() -> None:
    assert preset("dots-ocr").sampling.temperature == 0.1 and preset("dots-ocr").image.max_pixels == 11289600
    assert preset("qwen3-vl").image.factor == 32 and preset("qwen3-vl").sampling.extra["presence_penalty"] == 1.5
    assert preset("paddleocr-vl").modes["table"].prompt == "Table Recognition:"
    assert preset("paddleocr-vl").image.max_pixels == 2822400
    assert preset("olmocr-2").image.longest_side == 1288 and preset("olmocr-2").sampling.max_tokens == 8000
    assert preset("olmocr-2").custom_prompt is False
    assert preset("qwen2.5-vl").modes["html"].system and preset("qwen2.5-vl").modes["html"].prompt == "QwenVL HTML"


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
    # the logo is a figure: an image without a description in the markdown, its crop in the blocks
    assert page.markdown.startswith("## Qwen2.5 Technical Report\n\nQwen Team\n\n![]()\n\n## Abstract")
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


def test_boxed_html_lists_line_breaks_and_classes() -> None:
    answer = (
        '<ul data-bbox="0 0 50 20"><li>One</li><li>Two <b>bold</b></li></ul>'
        '<li data-bbox="0 20 50 30">Alone</li><p data-bbox="0 30 50 40">A<br>B</p>'
        '<div class="formula" data-bbox="0 40 50 50">x^2</div><footer data-bbox="0 90 50 99">7</footer>'
    )
    page = preset("qwen2.5-vl").parse(answer, frame(100, 100, 100, 100, "html"))
    assert [(b.type, b.text) for b in page.blocks] == [
        (TEXT, "- One\n- Two **bold**"), (TEXT, "- Alone"), (TEXT, "A\nB"), ("equation", "x^2"), ("footer", "7")
    ]  # fmt: skip
    assert page.markdown == "- One\n- Two **bold**\n\n- Alone\n\nA\nB\n\n$$\nx^2\n$$\n\n7"


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


# --- qwen3-vl

QWEN3_PAGE = frame(1376, 1920, 1216, 1696, "html")


def test_qwen3_html_fixture_boxes_on_the_1000_grid() -> None:
    page = preset("qwen3-vl").parse(fixture("qwen3-vl", "yutong_report.qwenvl.html"), QWEN3_PAGE)
    assert page.warnings == []
    assert_on_page(page, QWEN3_PAGE)
    assert page.blocks[0].type == FIGURE
    assert page.blocks[0].bbox == pytest.approx((104 * 1.376, 29 * 1.92, 455 * 1.376, 75 * 1.92))
    assert len(by_type(page, FIGURE)) == 5 and len(by_type(page, TABLE)) == 2
    assert "7月销量转正，T7前景看好" in by_type(page, TEXT)
    assert "<td>大股东/持股</td><td>宇通集团/37.19%</td>" in by_type(page, TABLE)[0]
    assert by_type(page, TABLE)[1].startswith("<table><thead><tr><th></th><th>2015A</th>")
    assert by_type(page, TEXT)[-1] == "汽车和汽车零部件\n2017 年 08 月 05 日"
    assert "<td>营业收入(百万元)</td><td>31211</td>" in page.markdown and "data-bbox" not in page.markdown


def test_qwen3_markdown_answer_has_no_blocks() -> None:
    page = preset("qwen3-vl").parse("```markdown\n# Title\n\nText\n```", frame(100, 100, 96, 96, "markdown"))
    assert page.markdown == "# Title\n\nText" and page.blocks == []


# --- paddleocr-vl


def test_paddleocr_ocr_fixture_is_text() -> None:
    page = preset("paddleocr-vl").parse(
        fixture("paddleocr-vl", "paddleocr_banner_ocr.txt"), frame(800, 600, 784, 588, "ocr")
    )
    assert page.blocks == [] and page.warnings == []
    assert page.markdown.startswith("App | AI financial report analysis")
    assert "Hardware | NVIDIA | Intel | KUNLUNXIN | Ascend" in page.markdown


def test_paddleocr_ocr_fixture_from_the_transformers_integration_test() -> None:
    page = preset("paddleocr-vl").parse(
        fixture("paddleocr-vl", "transformers_ocr_demo2.txt"), frame(800, 600, 784, 588, "ocr")
    )
    assert page.markdown == "生甘草" and page.blocks == [] and page.warnings == []


def test_paddleocr_table_mode_turns_otsl_into_html() -> None:
    where = frame(400, 200, 392, 196, "table")
    page = preset("paddleocr-vl").parse("<fcel>Year<fcel>Sales<lcel><nl><fcel>2024<fcel>1<fcel>2<nl>", where)
    html = '<table><tr><td>Year</td><td colspan="2">Sales</td></tr><tr><td>2024</td><td>1</td><td>2</td></tr></table>'
    assert page.markdown == html
    assert [(b.type, b.bbox, b.text) for b in page.blocks] == [(TABLE, (0.0, 0.0, 400.0, 200.0), html)]


def test_paddleocr_formula_and_chart_modes() -> None:
    formula = preset("paddleocr-vl").parse("\\[ a^2 + b^2 = c^2 \\]", frame(100, 50, 98, 42, "formula"))
    assert formula.markdown == "$$\na^2 + b^2 = c^2\n$$" and formula.blocks[0].type == "equation"
    chart = preset("paddleocr-vl").parse("Year | Sales\n2024 | 3", frame(100, 50, 98, 42, "chart"))
    assert chart.blocks[0].type == FIGURE and chart.blocks[0].text == "Year | Sales\n2024 | 3"
    empty = preset("paddleocr-vl").parse("  ", frame(100, 50, 98, 42, "table"))
    assert empty.blocks == [] and empty.warnings


@pytest.mark.parametrize(
    ("otsl", "html"),
    [
        ("<fcel>Tall<fcel>x<nl><ucel><fcel>y<nl>", '<tr><td rowspan="2">Tall</td><td>x</td></tr><tr><td>y</td></tr>'),
        ("<fcel>A<lcel><nl><ucel><xcel><nl>", '<tr><td rowspan="2" colspan="2">A</td></tr><tr></tr>'),
        ("<ched>h<lcel><nl><fcel>1<ecel><nl>", '<tr><th colspan="2">h</th></tr><tr><td>1</td><td></td></tr>'),
        ("<fcel>a < b</fcel><nl>", "<tr><td>a &lt; b</td></tr>"),
        ("<otsl><loc_1><loc_2><fcel><b>x</b> &amp;\n y<nl></otsl>", "<tr><td>x &amp; y</td></tr>"),
    ],
)
def test_otsl_spans_and_headers(otsl: str, html: str) -> None:
    from backends.vlm_backend.presets._otsl import otsl_to_html

    assert otsl_to_html(otsl) == f"<table>{html}</table>"


@pytest.mark.parametrize("otsl", ["", "<nl><nl>", "<lcel><ucel><xcel>", "<fcel>cut in the mi", "<ucel><nl><lcel>x"])
def test_otsl_odd_tables_never_raise(otsl: str) -> None:
    from backends.vlm_backend.presets._otsl import otsl_to_html

    assert otsl_to_html(otsl).startswith("<table>")


def test_otsl_rows_of_unequal_length_are_read_with_a_warning() -> None:
    from backends.vlm_backend.presets._otsl import otsl_to_html

    warnings: list[str] = []
    assert otsl_to_html("<fcel>a<fcel>b<nl><fcel>c<nl>", warnings) == (
        "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"
    )
    assert warnings == ["table rows of unequal length (truncated answer?): read as they are"]


# --- olmocr-2

OLMOCR_PAGE = frame(995, 1288, 995, 1288, "page")


def test_olmocr_fixture_table_page_body() -> None:
    page = preset("olmocr-2").parse(fixture("olmocr-2", "olmo2-pg4_pg1_repeat1.md"), OLMOCR_PAGE)
    assert page.blocks == []
    assert page.warnings == ["no front matter (primary_language, rotation...): body read as it is"]
    assert page.markdown.startswith("Table 1 Composition of the pretraining data for OLMo 2.")
    assert "| DCLM-Baseline" in page.markdown and "2.1.1 Pretraining data: OLMo 2 Mix 1124" in page.markdown


def test_olmocr_fixture_math_page_keeps_inline_math() -> None:
    page = preset("olmocr-2").parse(fixture("olmocr-2", "openstax_caculus_pg_273_pg1_repeat1.md"), OLMOCR_PAGE)
    assert page.markdown.startswith("3.4 EXERCISES")
    assert "150. \\( s(t) = 2t^3 - 3t^2 - 12t + 8 \\)" in page.markdown
    assert "![Graph of position function](image)" in page.markdown and page.blocks == []


def test_olmocr_front_matter_display_math_and_figures() -> None:
    answer = (
        "---\nprimary_language: en\nis_rotation_valid: True\nrotation_correction: 0\nis_table: False\n"
        "is_diagram: False\n---\nText with \\( x \\).\n\n\\[\nE = mc^2\n\\]\n\n"
        "![A bar chart of sales](page_100_200_300_150.png)\n\n![bad](page_1_2_0_0.png)"
    )
    page = preset("olmocr-2").parse(answer, frame(1990, 2576, 995, 1288, "page"))
    assert page.markdown.startswith("Text with \\( x \\).\n\n$$\nE = mc^2\n$$")
    assert [(b.type, b.bbox, b.text) for b in page.blocks] == [
        (FIGURE, (200.0, 400.0, 800.0, 700.0), "A bar chart of sales")
    ]
    assert len(page.warnings) == 1 and "figure" in page.warnings[0]


def test_olmocr_rotated_or_broken_front_matter_warns() -> None:
    from backends.vlm_backend.presets.olmocr_2 import front_matter

    rotated = (
        "---\nprimary_language: de\nis_rotation_valid: false\nrotation_correction: 90\n"
        "is_table: true\nis_diagram: false\n---\nText"
    )
    page = preset("olmocr-2").parse(rotated, OLMOCR_PAGE)
    assert page.markdown == "Text" and any("rotated" in w and "90" in w for w in page.warnings)
    fields = {"primary_language": "de", "is_rotation_valid": False, "rotation_correction": 90}
    assert front_matter(rotated)[0] == fields | {"is_table": True, "is_diagram": False}
    odd = preset("olmocr-2").parse("---\nprimary_language: en\nrotation_correction: 45\n---\nBody", OLMOCR_PAGE)
    assert odd.markdown == "Body" and len(odd.warnings) == 4
    cut = preset("olmocr-2").parse("---\nprimary_language: en\nis_rota", OLMOCR_PAGE)
    assert cut.warnings and cut.blocks == []


# --- never raising, whatever is cut or written (every preset)

FIXTURE_FRAMES = {
    "qwen2.5-vl": frame(1014, 1532, 1008, 1540, "html"),
    "qwen3-vl": QWEN3_PAGE,
    "dots-ocr": DOTS_SIMPLE,
    "paddleocr-vl": frame(800, 600, 784, 588, "ocr"),
    "olmocr-2": OLMOCR_PAGE,
    "chandra": frame(1224, 1584, 1216, 1568, "layout"),
    "chandra-2": frame(1224, 1584, 1232, 1596, "layout"),
    "nanonets-ocr2": frame(1000, 1400, 1008, 1400, "markdown"),
    "glm-ocr": frame(970, 616, 980, 616, "table"),
    "granite-docling": frame(1275, 1650, 1275, 1650, "doctags"),
}
GARBAGE = [
    "",
    "   ",
    "<",
    "```",
    "\x00\xff<",
    "\x00\x01 binary \ufffd",
    "</div></div>",
    "<div",
    "<div data-bbox='1 2 3 4' <p>",
    '<div data-bbox="1e309 0 5 5" data-label="Text">x</div>',
    '<div data-bbox="-5 -5 99999 99999" data-label="Text">x</div>',
    '<table data-bbox="0 0 9 9"><tr><td>',
    "<table><tr><td><math>x",
    '[{"bbox": [1e308, -1e308, 1e309, 5], "category": null, "text": 5}]',
    "---\n---\n",
    "<fcel><lcel><ucel><xcel><nl>" * 3,
    "<lcel><ucel><nl><xcel>",
    "<doctag><otsl>",
    "<doctag><loc_1><loc_2>",
    "<doctag><picture><loc_1><loc_2><loc_3><loc_4><caption>cut",
    "<doctag><code><loc_1><loc_2><loc_3><loc_4><_Python_>print(1)</code>",
    "<img><img></img>",
    "\\[ unclosed",
    "![x](page_a_b_c_d.png) ![y](page_1_1_1e999_1.png)",
]


def test_every_preset_has_a_frame_for_its_fixtures() -> None:
    assert set(FIXTURE_FRAMES) == set(presets())


@pytest.mark.parametrize("name", sorted(FIXTURE_FRAMES))
def test_cut_fixtures_and_garbage_never_raise(name: str) -> None:
    found = preset(name)
    answers = [
        text[:cut]
        for path in sorted((FIXTURES / name).glob("*"))
        if path.name != "SOURCES.md"
        for text in [path.read_text(encoding="utf-8")]
        for cut in range(0, len(text), max(1, len(text) // 25))
    ]
    for mode in found.modes:
        where = PageFrame(**{**FIXTURE_FRAMES[name].__dict__, "mode": mode})
        for answer in answers + GARBAGE:
            page = found.parse(answer, where)
            assert isinstance(page.markdown, str)
            assert_on_page(page, where)


# --- shared markdown helpers


@pytest.mark.parametrize(
    ("latex", "markdown"),
    [
        ("E = mc^2", "$$\nE = mc^2\n$$"),
        ("$$E = mc^2$$", "$$\nE = mc^2\n$$"),
        ("\\[ E = mc^2 \\]", "$$\nE = mc^2\n$$"),
        ("$E = mc^2$", "$$\nE = mc^2\n$$"),
        ("where $E$ is energy", "where $E$ is energy"),  # prose with inline math: kept as written
        ("cost \\$5", "$$\ncost \\$5\n$$"),
    ],
)
def test_one_display_math_form(latex: str, markdown: str) -> None:
    from backends.vlm_backend.presets._parsing import equation

    assert equation(latex) == markdown
