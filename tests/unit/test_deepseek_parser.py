"""DeepSeek-OCR's raw answers → blocks with pixel boxes, markdown and warnings, checked exactly.

Answers marked "real" were recorded from the model (sources in ../shared/notes/deepseek.md §10);
the others are written in its exact format to cover the shapes it produces.
"""

import base64
import io

import pytest
from PIL import Image

from backends.deepseek_ocr.grounding import BoxSyntaxError, fit_to_grid, parse_grounded, read_boxes
from backends.deepseek_ocr.page_builder import PageRequest, build_page
from backends.deepseek_ocr.repetition import Loop, find_loop, trim_loops
from tests.support import deepseek as answers


def page(raw, size=(1000, 2000), *, mode="document", finish="stop", prefix=""):
    image = Image.new("RGB", size, "white")
    return build_page(
        raw, image, PageRequest(mode=mode, prompt="p", finish_reason=finish, max_tokens=8192, figure_prefix=prefix)
    )


def blocks(result):
    return [(b.type, b.bbox, b.text) for b in result.blocks]


def test_real_title_scaled_from_the_grid_to_pixels():
    result = page(answers.TITLE_883x736, (883, 736))
    assert blocks(result) == [("title", (154, 114, 753, 172), "# LORA: LOW-RANK ADAPTATION OF LARGE LANGUAGE MODELS")]
    assert result.markdown == "# LORA: LOW-RANK ADAPTATION OF LARGE LANGUAGE MODELS"
    assert result.warnings == []


def test_real_line_ocr_keeps_the_text_that_sits_in_the_labels():
    # The official post-processing deletes every tag here and returns "\n\n".
    result = page(answers.LINES_OCR, (1000, 1000), mode="ocr")
    assert blocks(result) == [
        ("text", (549, 653, 616, 679), "一段接一段"),
        ("text", (547, 703, 604, 730), "越过高峰"),
        ("text", (547, 754, 630, 780), "另一峰却又见"),
    ]
    assert result.markdown == "一段接一段\n\n越过高峰\n\n另一峰却又见"


def test_real_figure_is_cropped_linked_and_embedded():
    image = Image.new("RGB", (1196, 800), "white")
    image.paste((255, 0, 0), (562, 5, 634, 79))  # the figure's area, in red
    result = build_page(
        answers.IMAGE_AND_TEXT_1196x800,
        image,
        PageRequest(mode="document", prompt="p", finish_reason="stop", max_tokens=8192),
    )
    assert blocks(result) == [("image", (562, 5, 634, 79), ""), ("text", (550, 81, 647, 104), "1月份工作。")]
    assert result.markdown == "![](images/0.jpg)\n\n1月份工作。"
    head, crop_uri = result.source_markdown.split("](", 1)
    assert head == "![figure 0"
    crop_uri, rest = crop_uri.split(")", 1)
    assert rest == "\n\n1月份工作。"
    crop = Image.open(io.BytesIO(base64.b64decode(crop_uri.split(",", 1)[1])))
    assert crop.size == (72, 74)
    red, green, blue = crop.convert("RGB").getpixel((36, 37))
    assert red > 200 and green < 60 and blue < 60


def test_real_sub_title_and_equation():
    assert page(answers.SUB_TITLE).markdown == "## 3. Aussagen über 2 Matrizen in 3D"
    equation = page(answers.EQUATION, (1000, 1000))
    assert equation.markdown == "\\[\\ker(A) = \\{0\\}\\]"
    assert blocks(equation) == [("equation", (117, 138, 238, 160), "\\[\\ker(A) = \\{0\\}\\]")]


def test_real_caption_after_its_figure_and_table_caption_holding_the_table():
    figure = page(answers.PAPER_FIGURE_PAGE, prefix="page1_")
    assert figure.markdown == "![](images/page1_0.jpg)\n\nFigure 1 | Figure (a) shows the compression ratio ..."
    assert [b.type for b in figure.blocks] == ["image", "image_caption"]
    table = page(answers.PAPER_TABLE_PAGE)
    html = (
        '<table><tr><td rowspan="2">Mode</td><td colspan="3">Native Resolution</td></tr>'
        "<tr><td>Tiny</td><td>Small</td><td>Base</td></tr></table>"
    )
    assert table.markdown == "Table 1 | Multi resolution support of DeepEncoder. ...\n\n" + html
    assert blocks(table) == [
        ("table", (167, 862, 828, 1071), html),
        ("table_caption", (115, 772, 881, 840), "Table 1 | Multi resolution support of DeepEncoder. ..."),
    ]


def test_document_page_tables_math_and_latex_fixes():
    result = page(answers.DOCUMENT_PAGE)
    assert result.markdown == (
        "# Quarterly Report\n\n"
        "Revenue grew by 12% where \\(x := 3\\) and \\(y =: 4\\).\n\n"
        "\\[E = mc^2 \\quad (1)\\]\n\n"
        "<table><tr><td>Q1</td><td>&lt;10</td></tr><tr><td>Q2</td><td>12</td></tr></table>\n\n"
        "![](images/0.jpg)\n\n"
        "Figure 1: Sales"
    )
    assert [(b.type, b.bbox) for b in result.blocks] == [
        ("title", (100, 100, 900, 200)),
        ("text", (100, 240, 900, 400)),
        ("equation", (300, 440, 700, 520)),
        ("table", (100, 600, 900, 1001)),
        ("image", (100, 1041, 500, 1601)),
        ("image_caption", (100, 1621, 500, 1681)),
    ]
    assert result.warnings == []
    assert result.raw == {
        "text": answers.DOCUMENT_PAGE,
        "finish_reason": "stop",
        "truncated": False,
        "mode": "document",
        "prompt": "p",
    }


def test_locate_with_several_boxes_gives_a_match_per_box():
    result = page(answers.MULTI_BOX_LOCATE, mode="locate")
    assert blocks(result) == [("match", (10, 40, 110, 120), "total"), ("match", (500, 1201, 620, 1301), "total")]
    assert result.warnings == []


def test_several_boxes_on_a_layout_block_warn():
    result = page("<|ref|>text<|/ref|><|det|>[[0, 0, 100, 100], [200, 200, 300, 300]]<|/det|>\nTwo places.")
    assert len(result.blocks) == 2 and result.markdown == "Two places."
    assert result.warnings == ["block 1 ('text') has 2 boxes"]


def test_malformed_output_never_raises_and_says_what_it_dropped():
    result = page(answers.MALFORMED)
    assert result.markdown == "Good line.\n\nBad boxes.\n\nOut of range.\n\nEmpty box.\n\nStray ref."
    assert blocks(result) == [
        ("text", (100, 200, 400, 300), "Good line."),
        ("text", (0, 1961, 1000, 1981), "Out of range."),
    ]
    assert result.warnings == [
        "block 2 ('text'): unreadable boxes, kept its text without a box: "
        "not a box list: \"[[1, 2, __import__('os')]]\"",
        "block 3 ('text'): coordinates outside 0-999 were clamped",
        "block 4 ('text'): an empty box was dropped",
        "2 malformed grounding tag(s) removed",
    ]


def test_repetition_loop_is_trimmed_to_one_copy():
    result = page(answers.LOOP, finish="length")
    assert result.markdown == "# Ledger\n\n<pre> <pre>"
    assert blocks(result) == [
        ("title", (100, 100, 900, 200), "# Ledger"),
        ("text", (520, 240, 780, 256), "<pre> <pre>"),
    ]
    assert result.warnings == [
        "repetition loop: 1 block(s) repeated 70 times from block 2, trimmed to one copy",
        "truncated: the model reached its token cap (8192) before the end of the page; the text may be incomplete",
    ]
    assert result.raw["truncated"] is True


def test_repeated_lines_inside_a_block_are_trimmed():
    raw = "<|ref|>text<|/ref|><|det|>[[0, 0, 500, 500]]<|/det|>\nHeader\n" + "Total: 0\nTotal: 1\n" * 9
    result = page(raw)
    assert result.markdown == "Header\nTotal: 0\nTotal: 1"
    assert result.warnings == ["repetition loop in block 1: 2 line(s) repeated 9 times, trimmed to one copy"]


def test_truncated_page_keeps_its_text_and_is_flagged():
    result = page(answers.TRUNCATED, finish="length")
    assert result.markdown == "# Long page\n\nThe text stops in the mid"
    assert result.warnings[-1].startswith("truncated: the model reached its token cap (8192)")


def test_free_ocr_has_text_and_no_blocks():
    result = page(answers.FREE_OCR, mode="free")
    assert result.markdown == "Quarterly Report\nRevenue grew by 12%." and result.blocks == []


def test_end_of_sentence_token_is_not_text():
    output = parse_grounded("Hello<｜end▁of▁sentence｜>junk after")
    assert output.preamble == "Hello" and output.eos_seen


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('id')",
        "[[1, 2, 3]]",
        "[[1, 2, 3, 'x']]",
        "[]",
        "[[NaN, 1, 2, 3]]",
        "[[true, 1, 2, 3]]",
        "{'a': 1}",
        "[[1e999, 1, 2, 3]]",
    ],
)
def test_box_reader_accepts_only_lists_of_four_numbers(text):
    with pytest.raises(BoxSyntaxError):
        read_boxes(text)


def test_box_reader_reads_lists_and_a_flat_box():
    assert read_boxes("[[1, 2, 3, 4], [5, 6, 7, 8.5]]") == [[1, 2, 3, 4], [5, 6, 7, 8.5]]
    assert read_boxes("[1, 2, 3, 4]") == [[1, 2, 3, 4]]


def test_boxes_are_clamped_ordered_or_dropped():
    assert fit_to_grid([10, 20, 30, 40]) == ((10, 20, 30, 40), None)
    assert fit_to_grid([-5, 20, 1500, 40]) == ((0, 20, 999, 40), "coordinates outside 0-999 were clamped")
    assert fit_to_grid([30, 40, 10, 20]) == ((10, 20, 30, 40), "box corners were swapped into order")
    assert fit_to_grid([10, 10, 10, 50]) == (None, "an empty box was dropped")


def test_find_loop_ignores_blank_runs_and_short_repeats():
    assert find_loop(["a", "", "", "", "", "", "b"], min_repeats=3, max_period=2) is None
    assert find_loop(["a", "b", "b", "c"], min_repeats=3, max_period=2) is None
    assert find_loop(["x", "a", "b", "a", "b", "a", "b", "y"], min_repeats=3, max_period=3) == Loop(1, 2, 3)
    kept, loops = trim_loops(list("xaaaay"), str, min_repeats=4, max_period=1)
    assert kept == list("xay") and loops == [Loop(1, 1, 4)]
