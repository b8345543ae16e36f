"""Post-processing: recorded MinerU documents through our conversion and MinerU's own renderer."""

import base64
import io

import pytest
from PIL import Image

from backends.mineru_backend.convert import block_text, page_blocks, to_pages
from shared.data_uri import image_data_uri
from tests.support.mineru import ParseResult, fixture, pages_of

PAGE_1_MARKDOWN = (
    "# Quarterly Report\n\n## 1. Results\n\nRevenue grew by $12\\%$ **year over year.**\n\n"
    "$$\nE = mc^2\n$$\n\nTable 1. Revenue\n\n| Q1 | 10 |\n| --- | --- |\n| Q2 | 12 |\n\n"
    "![](images/page0_fig1.png)\n\nFigure 1. Growth"
)
PAGE_2_MARKDOWN = (
    "## 2. Outlook\n\nWe expect $x^2 + y^2$ to hold.\n\n"
    '<table><tr><td rowspan="2">H1</td><td>Q1</td></tr><tr><td>Q2</td></tr></table>\n\n'
    "![](images/page2_fig3.png)\n\nFigure 2. Plan"
)


def gradient(width: int, height: int) -> Image.Image:
    """A page whose every pixel tells where it is, so a crop can be checked."""
    image = Image.new("RGB", (width, height))
    image.putdata([(x % 256, y % 256, (x // 256) * 16 + y // 256) for y in range(height) for x in range(width)])
    return image


def decode(uri: str) -> Image.Image:
    header, payload = uri.split(",", 1)
    assert header == "data:image/png;base64"
    return Image.open(io.BytesIO(base64.b64decode(payload)))


def convert(document, sizes, images=None):
    result = ParseResult.from_dict(document)
    rendered = images or [gradient(w, h) for w, h in sizes]
    return result, to_pages(result, sizes, lambda i: rendered[i])


def test_mineru_renders_the_whole_recorded_document_as_the_notes_say():
    # The notes' example (page 1 of the fixture) through MinerU's own ParseResult.markdown(): headers,
    # page numbers and the unnamed figure of page 2 are left out, the rowspan table stays HTML.
    markdown = ParseResult.from_dict(fixture()).markdown()
    assert markdown == PAGE_1_MARKDOWN + "\n\n" + PAGE_2_MARKDOWN.replace("![](images/page2_fig3.png)\n\n", "")


def test_page_markdown_is_minerus_rendering_with_figures_as_plain_links():
    _, pages = convert(fixture(), [(1000, 2000), (800, 1000)])
    assert [p.markdown for p in pages] == [PAGE_1_MARKDOWN, PAGE_2_MARKDOWN]
    assert [(p.width, p.height) for p in pages] == [(1000, 2000), (800, 1000)]


def test_blocks_carry_type_text_and_boxes_in_page_pixels():
    _, pages = convert(fixture(), [(1000, 2000), (800, 1000)])
    assert [(b.type, b.bbox, b.text) for b in pages[0].blocks] == [
        ("header", (100.0, 20.0, 400.0, 60.0), "ACME Corp."),
        ("doc_title", (100.0, 100.0, 900.0, 180.0), "Quarterly Report"),
        ("paragraph_title", (100.0, 220.0, 600.0, 280.0), "1. Results"),
        ("text", (100.0, 300.0, 900.0, 500.0), "Revenue grew by $12\\%$ year over year."),
        ("equation", (300.0, 540.0, 700.0, 620.0), "E = mc^2"),
        (
            "table",
            (100.0, 700.0, 900.0, 1100.0),
            "<table><tr><td>Q1</td><td>10</td></tr><tr><td>Q2</td><td>12</td></tr></table>",
        ),
        ("table_caption", (100.0, 660.0, 500.0, 700.0), "Table 1. Revenue"),
        ("image", (200.0, 1200.0, 800.0, 1700.0), ""),
        ("image_caption", (200.0, 1720.0, 800.0, 1780.0), "Figure 1. Growth"),
        ("page_number", (480.0, 1900.0, 520.0, 1940.0), "1"),
    ]
    assert [(b.type, b.bbox, b.text) for b in pages[1].blocks] == [
        ("paragraph_title", (80.0, 50.0, 560.0, 80.0), "2. Outlook"),
        ("text", (80.0, 100.0, 720.0, 200.0), "We expect $x^2 + y^2$ to hold."),
        (
            "table",
            (80.0, 250.0, 720.0, 450.0),
            '<table><tr><td rowspan="2">H1</td><td>Q1</td></tr><tr><td>Q2</td></tr></table>',
        ),
        ("image", (200.0, 500.0, 600.0, 800.0), ""),
        ("image_caption", (200.0, 810.0, 600.0, 840.0), "Figure 2. Plan"),
    ]


def test_source_markdown_embeds_each_figure_cut_from_its_page():
    sizes = [(1000, 2000), (800, 1000)]
    images = [gradient(*size) for size in sizes]
    _, pages = convert(fixture(), sizes, images)
    for page, image, box, link in zip(
        pages,
        images,
        [(200, 1200, 800, 1700), (200, 500, 600, 800)],
        ["![](images/page0_fig1.png)", "![](images/page2_fig3.png)"],
        strict=True,
    ):
        before, rest = page.source_markdown.split("![](data:", 1)
        uri, after = ("data:" + rest).split(")", 1)
        # everything but the figure is MinerU's markdown, unchanged
        assert before + link + after == page.markdown
        crop = decode(uri)
        assert crop.size == (box[2] - box[0], box[3] - box[1])
        assert crop.convert("RGB").tobytes() == image.crop(box).tobytes()


def test_a_figure_minerus_kept_as_base64_is_embedded_as_is_and_named_in_markdown():
    # MinerU keeps its crops in memory as data URIs (to_dict() leaves them out of a PDF's JSON).
    document = pages_of(fixture(), [1])
    uri = image_data_uri(Image.new("RGB", (4, 3), "red"), fmt="PNG")
    document["pages"][0]["blocks"][3]["content"][0]["image_base64"] = uri
    _, pages = convert(document, [(800, 1000)], images=[None])  # the page image is not needed
    assert pages[0].source_markdown == PAGE_2_MARKDOWN.replace("images/page2_fig3.png", uri).replace("page2", "page1")
    assert pages[0].markdown == PAGE_2_MARKDOWN.replace("page2_fig3", "page1_fig3")


def test_page_numbers_name_the_figures_after_their_page_in_the_document():
    result = ParseResult.from_dict(pages_of(fixture(), [1]))
    pages = to_pages(result, [(800, 1000)], lambda i: gradient(800, 1000), page_numbers=[7])
    assert "![](images/page7_fig3.png)" in pages[0].markdown


@pytest.mark.parametrize(
    "span, text",
    [
        ({"type": "text", "content": "a", "styles": ["italic"]}, "a"),
        ({"type": "equation_inline", "content": "\\alpha"}, "$\\alpha$"),
        ({"type": "code_inline", "content": "x = 1"}, "x = 1"),
        ({"type": "hyperlink", "url": "https://example.org", "content": [{"type": "text", "content": "site"}]}, "site"),
    ],
)
def test_block_text_of_each_span_kind(span, text):
    document = pages_of(fixture(), [1])
    document["pages"][0]["blocks"][1]["content"] = [span]
    page = ParseResult.from_dict(document).pages[0]
    assert block_text(page.blocks[1]) == text
    assert page_blocks(page, 100, 100)[1].text == text


def test_a_list_block_is_one_block_with_its_items_as_lines():
    document = pages_of(fixture(), [1])
    document["pages"][0]["blocks"] = [
        {
            "type": "list",
            "index": 0,
            "bbox": [0.1, 0.1, 0.9, 0.3],
            "content": [
                {"type": "text", "bbox": [0.1, 0.1, 0.9, 0.2], "content": [{"type": "text", "content": "one"}]},
                {"type": "text", "bbox": [0.1, 0.2, 0.9, 0.3], "content": [{"type": "text", "content": "two"}]},
            ],
        }
    ]
    page = ParseResult.from_dict(document).pages[0]
    assert [(b.type, b.bbox, b.text) for b in page_blocks(page, 10, 10)] == [("list", (1.0, 1.0, 9.0, 3.0), "one\ntwo")]
