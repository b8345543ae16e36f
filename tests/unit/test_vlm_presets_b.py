"""VLM presets B (#21): chandra, nanonets-ocr2, glm-ocr, granite-docling.

Recorded answers (tests/fixtures/vlm/<preset>/, sources in each SOURCES.md) parse to the expected text
and blocks on the page; malformed answers never raise and say what was repaired. Nanonets-OCR2
publishes no recorded answer and Chandra's are Chandra 2's, recorded by docling (their SOURCES.md say
what was searched): the further answers here are written by hand in the models' documented formats
and marked as such.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.vlm_backend.presets import preset, presets
from backends.vlm_backend.presets._doctags import otsl_to_html
from backends.vlm_backend.presets.base import PageFrame, ParsedPage
from shared.layout import BLOCK_TYPES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vlm"
NAMES = ("chandra", "nanonets-ocr2", "glm-ocr", "granite-docling")


def frame(width: int, height: int, mode: str) -> PageFrame:
    return PageFrame(width=width, height=height, sent_width=width, sent_height=height, mode=mode)


def parse(name: str, answer: str, width: int, height: int, mode: str | None = None) -> ParsedPage:
    chosen = preset(name)
    page = chosen.parse(answer, frame(width, height, mode or chosen.default_mode))
    for block in page.blocks:
        x1, y1, x2, y2 = block.bbox
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height, block
        assert block.type in BLOCK_TYPES, block
    return page


def fixture(name: str, file: str) -> str:
    return (FIXTURES / name / file).read_text(encoding="utf-8")


# --- the presets as data ---------------------------------------------------------------------------


def test_the_four_presets_are_found_with_their_modes_and_defaults() -> None:
    assert set(NAMES) <= set(presets())
    assert set(preset("chandra").modes) == {"layout", "ocr"} and preset("chandra").default_mode == "layout"
    assert set(preset("glm-ocr").modes) == {"text", "table", "formula"} and preset("glm-ocr").default_mode == "text"
    assert preset("nanonets-ocr2").default_mode == "markdown"
    assert preset("granite-docling").default_mode == "doctags"


def test_prompts_and_settings_are_the_models_own() -> None:
    assert "Bboxes are normalized 0-1024." in preset("chandra").modes["layout"].prompt
    assert "- Section-Header" in preset("chandra").modes["layout"].prompt
    assert preset("chandra").modes["ocr"].prompt.startswith("OCR this image to HTML.\n\n")
    assert preset("chandra").sampling.top_p == 0.1 and preset("chandra").image.factor == 32
    glm = preset("glm-ocr")
    assert [mode.prompt for mode in glm.modes.values()] == [
        "Text Recognition:",
        "Table Recognition:",
        "Formula Recognition:",
    ]
    assert glm.sampling.repetition_penalty == 1.1 and glm.image.max_pixels == 71372800
    granite = preset("granite-docling")
    assert granite.modes["doctags"].prompt == "Convert this page to docling."
    assert granite.sampling.extra["skip_special_tokens"] is False
    nanonets = preset("nanonets-ocr2").modes["markdown"].prompt
    assert "<page_number>14</page_number>" in nanonets and "Return the tables in html format." in nanonets


# --- granite-docling: recorded DocTags -------------------------------------------------------------


def test_doctags_tables_page() -> None:
    page = parse("granite-docling", fixture("granite-docling", "01030000000083.dt"), 1240, 1753)
    assert page.warnings == []
    assert [block.type for block in page.blocks].count("table") == 3
    assert [block.type for block in page.blocks].count("caption") == 3
    first = next(block for block in page.blocks if block.type == "table")
    assert first.bbox == pytest.approx((83 * 1240 / 500, 85 * 1753 / 500, 417 * 1240 / 500, 204 * 1753 / 500))
    assert "TABLE 35: UNION-STATE BREAKDOWN OF IMPRISONMENT CLAUSES BY CATEGORIES" in page.markdown
    assert "<tr><th>Category</th><th>Number of clauses in Union laws</th>" in page.markdown
    assert "<tr><td>Labour</td><td>534</td><td>10.2%</td><td>17285</td><td>82.7%</td></tr>" in page.markdown
    assert "<td>Finance &amp; Taxation</td>" in page.markdown
    # the third table starts with an empty cell
    assert "<tr><td></td><th>Small</th><th>Medium</th><th>Large</th></tr>" in page.markdown
    header = next(block for block in page.blocks if block.type == "header")
    footer = next(block for block in page.blocks if block.type == "footer")
    assert (header.text, footer.text) == ("Appendices", "85")
    assert "Appendices" not in page.markdown


def test_doctags_picture_and_formula_page() -> None:
    page = parse("granite-docling", fixture("granite-docling", "01030000000111.dt"), 1275, 1650)
    assert page.warnings == []
    types = [block.type for block in page.blocks]
    assert types.count("equation") == 3 and types.count("figure") == 1 and types.count("title") == 2
    assert "## 7. THEORY" in page.markdown and "## 7.1. FREE VORTEX" in page.markdown
    assert "$$\\upsilon = \\frac { k } { r } \\quad \\quad ( 1 )$$" in page.markdown
    caption = next(block for block in page.blocks if block.type == "caption")
    assert caption.text.startswith("Figure 8.1: a) P6238 CUSSONS free and forced vortex apparatus")
    assert "68 APPLIED FLUID MECHANICS LAB MANUAL" not in page.markdown


def test_doctags_answer_with_chat_prefix_and_lists() -> None:
    page = parse("granite-docling", fixture("granite-docling", "page_with_pic.dt"), 1412, 2040)
    assert page.warnings == []
    assert not page.markdown.startswith("Assistant")
    assert "## 4.2 Language Syntax" in page.markdown
    assert '- 1. Left-looking cell rule: The left neighbour of an "L" cell' in page.markdown
    assert '"C" cell.\n- 2. Up-looking cell rule' in page.markdown  # one list, one item a line
    headers = [block.text for block in page.blocks if block.type == "header"]
    assert headers == ["Optimized Table Tokenization for Table Structure Recognition", "7"]
    assert "Optimized Table Tokenization" not in page.markdown
    assert page.markdown.endswith("We find strong indications that this pattern")


def test_otsl_spans_become_colspan_and_rowspan() -> None:
    # hand-written OTSL: a header over two columns, a row header over two rows, a 2x2 cell, an empty cell
    otsl = "<ched>Head<lcel><ched>C<nl><rhed>r<fcel>b<fcel>c<nl><ucel><fcel>big<lcel><nl><ecel><ucel><xcel><nl>"
    warnings: list[str] = []
    assert otsl_to_html(otsl, warnings) == (
        "<table>"
        '<tr><th colspan="2">Head</th><th>C</th></tr>'
        '<tr><th rowspan="2">r</th><td>b</td><td>c</td></tr>'
        '<tr><td colspan="2" rowspan="2">big</td></tr>'
        "<tr><td></td></tr>"
        "</table>"
    )
    assert warnings == []


@pytest.mark.parametrize(
    ("answer", "warning"),
    [
        ("<doctag><otsl><loc_10><loc_10><loc_400><loc_90><ched>A<ched>B<nl><fcel>1", "left open"),
        ("<doctag><text><loc_10><loc_20>two locations</text></doctag>", "without a usable location"),
        ("<doctag><text><loc_10><loc_20><loc_10><loc_90>zero width</text></doctag>", "without a usable location"),
        ("<doctag><gizmo><loc_1><loc_2><loc_3><loc_4>odd</gizmo></doctag>", "unknown element <gizmo>"),
        ("plain words, no tags", "no DocTags elements"),
    ],
)
def test_malformed_doctags_are_repaired_with_a_warning(answer: str, warning: str) -> None:
    page = parse("granite-docling", answer, 1000, 1000)
    assert any(warning in text for text in page.warnings), page.warnings


def test_doctags_without_the_closing_root_is_normal() -> None:
    # vLLM drops the stop string </doctag> from the answer
    page = parse("granite-docling", "<doctag><title><loc_50><loc_20><loc_450><loc_40>Report</title>", 1000, 2000)
    assert page.warnings == [] and page.markdown == "# Report"
    assert page.blocks[0].type == "title" and page.blocks[0].bbox == (100.0, 80.0, 900.0, 160.0)


# --- glm-ocr: recorded region answers --------------------------------------------------------------


def test_glm_table_answer_is_one_table_block() -> None:
    page = parse("glm-ocr", fixture("glm-ocr", "table-region.html"), 970, 616, "table")
    assert page.warnings == []
    assert [(block.type, block.bbox) for block in page.blocks] == [("table", (0.0, 0.0, 970.0, 616.0))]
    assert "<th>项目</th><th>本期金额</th><th>上期金额</th><th>说明</th>" in page.markdown
    assert "<td>-342,273.79</td><td>-828,932.00</td>" in page.markdown
    assert page.markdown.startswith("<table>") and page.markdown.endswith("</table>")


def test_glm_text_answer_keeps_its_lines() -> None:
    page = parse("glm-ocr", fixture("glm-ocr", "seal-region.md"), 396, 310, "text")
    assert page.markdown == "中国石油天然气股份有限公司四川销售分公司\n\n510105711890927\n\n发票专用章\n\n5101055004432"
    assert [block.type for block in page.blocks] == ["text"]


def test_glm_formula_answer_is_display_latex() -> None:
    page = parse("glm-ocr", fixture("glm-ocr", "page-formula.tex"), 46, 25, "formula")
    assert page.markdown == "$$\n\\frac {q l}{2 t _ {1}} \\leqslant f _ {1}\n$$"
    assert [block.type for block in page.blocks] == ["equation"]


def test_glm_bare_formula_is_wrapped_and_broken_answers_are_repaired() -> None:
    assert parse("glm-ocr", "E = mc^2", 100, 40, "formula").markdown == "$$\nE = mc^2\n$$"
    truncated = parse("glm-ocr", "<table><tr><td>1</td><td>2", 100, 40, "table")
    assert truncated.markdown == "<table><tr><td>1</td><td>2</td></tr></table>"
    assert any("left open" in warning for warning in truncated.warnings)
    text_with_table = parse("glm-ocr", "Totals\n\n<table><tr><td>1", 100, 40, "text")
    assert text_with_table.markdown.endswith("</table>") and text_with_table.warnings
    empty = parse("glm-ocr", "  \n", 100, 40, "text")
    assert empty.blocks == [] and empty.warnings == ["empty answer"]


# --- chandra: Chandra 2 answers recorded by docling, and hand-written ones ---------------------------


def test_chandra_recorded_page_with_a_spanning_table() -> None:
    page = parse("chandra", fixture("chandra", "chandra_simple.html"), 1224, 1584)
    assert page.warnings == []
    assert " ".join(block.type for block in page.blocks) == "header text title text caption table title text text"
    assert page.blocks[0].text == "Optimized Table Tokenization for Table Structure Recognition 9"
    assert "Optimized Table Tokenization" not in page.markdown
    assert "### 5.1 Hyper Parameter Optimization" in page.markdown
    assert "**Table 1.** HPO performed in OTSL and HTML representation" in page.markdown
    table = page.blocks[5].text
    assert table.startswith('<table><thead><tr><th rowspan="2">#<br>enc-layers</th>')
    assert '<th colspan="3">TEDs</th>' in table and "<td><b>0.88</b></td>" in table
    assert page.blocks[5].bbox == pytest.approx(
        (225 * 1224 / 1024, 422 * 1584 / 1024, 770 * 1224 / 1024, 590 * 1584 / 1024)
    )


def test_chandra_recorded_figure_and_list_pages() -> None:
    figure_page = parse("chandra", fixture("chandra", "chandra_multiblock.html"), 1224, 1584)
    assert figure_page.warnings == []
    figure = next(block for block in figure_page.blocks if block.type == "figure")
    assert figure.text.startswith("![Stacked bar chart showing Plot number proportions (%)")
    assert "<tr><td>woodlot</td><td>10</td><td>55</td><td>35</td><td>0</td></tr>" in figure.text
    assert [block.text for block in figure_page.blocks if block.type == "caption"] == [
        "Figure 1: This is an example image."
    ]
    list_page = parse("chandra", fixture("chandra", "chandra_list_group.html"), 1190, 1684)
    assert list_page.warnings == []
    assert "## The Evolution of the Word Processor" in list_page.markdown
    assert "\n- **IBM MT/ST (Magnetic Tape/Selectric Typewriter):** Introduced in 1964" in list_page.markdown


# --- chandra: hand-written answers in its documented format ----------------------------------------

CHANDRA_LAYOUT = (  # hand-written, not recorded: see tests/fixtures/vlm/chandra/SOURCES.md
    '<div data-bbox="51 20 973 61" data-label="Page-Header"><p>Annual Report 2024</p></div>\n'
    '<div data-bbox="102 92 922 143" data-label="Section-Header"><h1>Results</h1></div>\n'
    '<div data-bbox="102 164 922 266" data-label="Text"><p>Revenue grew by <math>12\\%</math> to '
    "<b>4.2 bn</b> &amp; costs fell.</p></div>\n"
    '<div data-bbox="102 287 922 512" data-label="Table"><table><thead><tr><th colspan="2">Year</th></tr>'
    "</thead><tbody><tr><td>2023</td><td>3.7</td></tr></tbody></table></div>\n"
    '<div data-bbox="102 532 922 573" data-label="Equation-Block"><math display="block">a^2+b^2=c^2</math></div>\n'
    '<div data-bbox="102 594 512 901" data-label="Image"><img alt="Bar chart of revenue by year"/></div>\n'
    '<div data-bbox="102 922 922 963" data-label="List-Group"><ul><li><input type="checkbox" checked> done</li>'
    '<li><input type="checkbox"> open</li></ul></div>\n'
    '<div data-bbox="461 983 563 1014" data-label="Page-Footer"><p>3</p></div>'
)


def test_chandra_layout_blocks_labels_and_boxes() -> None:
    page = parse("chandra", CHANDRA_LAYOUT, 2048, 1024)
    assert page.warnings == []
    assert " ".join(block.type for block in page.blocks) == "header title text table equation figure text footer"
    assert page.blocks[1].bbox == pytest.approx((204.0, 92.0, 1844.0, 143.0))
    assert page.markdown.split("\n\n") == [
        "# Results",
        "Revenue grew by $12\\%$ to **4.2 bn** & costs fell.",
        '<table><thead><tr><th colspan="2">Year</th></tr></thead><tbody><tr><td>2023</td><td>3.7</td></tr>'
        "</tbody></table>",
        "$$a^2+b^2=c^2$$",
        "![Bar chart of revenue by year]()",
        "- ☑ done\n- ☐ open",
    ]
    assert page.blocks[0].text == "Annual Report 2024"


def test_chandra_ocr_mode_is_markdown_without_blocks() -> None:
    page = parse("chandra", "<h2>Notes</h2><p>One<br>two</p>", 800, 600, "ocr")
    assert page.markdown == "## Notes\n\nOne\ntwo" and page.blocks == []
    wrapped = parse("chandra", "<div><p>One</p></div><div><p>Two</p></div>", 800, 600, "ocr")
    assert wrapped.markdown == "One\n\nTwo" and wrapped.blocks == [] and wrapped.warnings == []


@pytest.mark.parametrize(
    ("answer", "warning", "blocks"),
    [
        ('<div data-bbox="1 2 3" data-label="Text"><p>x</p></div>', "bad box", 0),
        ('<div data-bbox="a b c d" data-label="Text"><p>x</p></div>', "bad box", 0),
        ('<div data-bbox="10 10 20 20" data-label="Gizmo-Block"><p>x</p></div>', "unknown label", 1),
        ('<div data-bbox="10 10 500 500" data-label="Table"><table><tr><td>cut', "left open", 1),
        ('stray<div data-bbox="10 10 20 20" data-label="Text">x</div>', "outside any block", 1),
    ],
)
def test_chandra_malformed_answers_are_repaired_with_a_warning(answer: str, warning: str, blocks: int) -> None:
    page = parse("chandra", answer, 1000, 1000)
    assert any(warning in text for text in page.warnings), page.warnings
    assert len(page.blocks) == blocks
    assert "x" in page.markdown or "cut" in page.markdown


# --- nanonets-ocr2: hand-written answer in its documented format (none is published) ---------------

NANONETS_ANSWER = (  # hand-written, not recorded: see tests/fixtures/vlm/nanonets-ocr2/SOURCES.md
    "<watermark>OFFICIAL COPY</watermark>\n\n# Invoice\n\n<img>Company logo: a blue circle</img>\n\n"
    "Total due: $x^2$ and \\[ \\sum_i a_i \\]\n\n"
    "<table><tr><th>Item</th><th>Price</th></tr><tr><td>Pen</td><td>2</td></tr></table>\n\n"
    "☑ Paid ☐ Pending\n\n<signature>J. Smith</signature>\n\n<page_number>1/2</page_number>"
)


def test_nanonets_markdown_has_no_blocks() -> None:
    page = parse("nanonets-ocr2", NANONETS_ANSWER, 1000, 1400)
    assert page.blocks == [] and page.warnings == []
    assert page.markdown.split("\n\n") == [
        "OFFICIAL COPY",
        "# Invoice",
        "![Company logo: a blue circle]()",
        "Total due: $x^2$ and $$\\sum_i a_i$$",
        "<table><tr><th>Item</th><th>Price</th></tr><tr><td>Pen</td><td>2</td></tr></table>",
        "☑ Paid ☐ Pending",
        "J. Smith",
        "1/2",
    ]


def test_nanonets_truncated_answer_is_closed_with_warnings() -> None:
    page = parse("nanonets-ocr2", "<table><tr><td>1</td>\n\n<img>a picture of", 1000, 1000)
    assert page.markdown.endswith("</table>")
    assert len(page.warnings) == 2


# --- nothing a model writes makes a parser raise ----------------------------------------------------

GARBAGE = [
    "",
    "   ",
    "<",
    "</div></div>",
    "<div",
    '<div data-bbox="1e309 0 5 5" data-label="Text">x</div>',
    '<div data-bbox="-5 -5 99999 99999" data-label="Text">x</div>',
    "<table><tr><td><math>x",
    "<doctag><otsl>",
    "<doctag><loc_1><loc_2>",
    "<doctag><picture><loc_1><loc_2><loc_3><loc_4><caption>cut",
    "<doctag><code><loc_1><loc_2><loc_3><loc_4><_Python_>print(1)</code>",
    "<img><img></img>",
    "\\[ unclosed",
    "\x00\x01 binary \ufffd",
    "<lcel><ucel><nl><xcel>",
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("answer", GARBAGE)
def test_no_answer_makes_a_parser_raise(name: str, answer: str) -> None:
    for mode in preset(name).modes:
        page = parse(name, answer, 640, 480, mode)
        assert isinstance(page.markdown, str)
