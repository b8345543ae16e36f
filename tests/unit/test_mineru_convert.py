"""Post-processing: MinerU's recorded real output through our conversion and MinerU's own renderer."""

import base64
import copy
import io
import re

import pytest
from PIL import Image

from backends.mineru_backend.convert import PagesMismatch, block_text, page_blocks, to_pages
from backends.mineru_backend.figures import figure_name
from shared.data_uri import image_data_uri
from tests.support.mineru import ParseResult, pages_of, recorded

LINK = re.compile(r"!\[\]\((images/[0-9a-f]{16}\.png)\)")
PAGE_1_TEXT = (
    "# Quarterly Report\n\n## 1. Results\n\n"
    "Revenue grew by twelve percent year over year. Costs were flat across all regions of the company.\n\n"
    "Table 1. Revenue by quarter\n\n| Quarter | Revenue | Cost |\n| --- | --- | --- |\n| Q1 | 10 | 7 |\n| Q2 | 12 | 7 |"
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


def convert(document, sizes, images=None, indices=None):
    result = ParseResult.from_dict(document)
    rendered = images or [gradient(w, h) for w, h in sizes]
    indices = indices if indices is not None else [page["page_idx"] for page in document["pages"]]
    return to_pages(result, indices, sizes, lambda i: rendered[i])


def test_page_markdown_is_minerus_rendering_with_the_figure_as_a_plain_link():
    # MinerU's own markdown of the recorded page leaves the figure out (to_dict() drops its crop);
    # ours names the figure where MinerU would draw it, before its caption.
    minerus = ParseResult.from_dict(pages_of(recorded(), [0])).markdown()
    assert minerus == PAGE_1_TEXT + "\n\nFigure 1. Growth by region"
    [page] = convert(pages_of(recorded(), [0]), [(1190, 1684)])
    link = LINK.search(page.markdown)
    assert link and page.markdown == PAGE_1_TEXT + f"\n\n![]({link.group(1)})\n\nFigure 1. Growth by region"
    assert "data:" not in page.markdown


def test_blocks_carry_type_text_and_boxes_in_page_pixels():
    [page] = convert(pages_of(recorded(), [0]), [(1000, 2000)])
    assert [(b.type, b.bbox, b.text) for b in page.blocks] == [
        ("doc_title", (121.0, 136.0, 419.0, 202.0), "Quarterly Report"),
        ("paragraph_title", (121.0, 272.0, 241.0, 318.0), "1. Results"),
        (
            "text",
            (121.0, 356.0, 529.0, 424.0),
            "Revenue grew by twelve percent year over year. Costs were flat across all regions of the company.",
        ),
        (
            "table",
            (121.0, 522.0, 726.0, 680.0),
            "<table><tbody><tr><td>Quarter</td><td>Revenue</td><td>Cost</td></tr><tr><td>Q1</td><td>10</td>"
            "<td>7</td></tr><tr><td>Q2</td><td>12</td><td>7</td></tr></tbody></table>",
        ),
        ("table_caption", (121.0, 476.0, 334.0, 504.0), "Table 1. Revenue by quarter"),
        ("image", (122.0, 760.0, 625.0, 1204.0), ""),
        ("image_caption", (121.0, 1224.0, 320.0, 1252.0), "Figure 1. Growth by region"),
        ("page_number", (487.0, 1880.0, 496.0, 1906.0), "1"),
    ]


def test_source_markdown_embeds_the_figure_cut_from_its_page():
    size = (1000, 2000)
    image = gradient(*size)
    [page] = convert(pages_of(recorded(), [0]), [size], [image])
    before, rest = page.source_markdown.split("![](data:", 1)
    uri, after = ("data:" + rest).split(")", 1)
    link = LINK.search(page.markdown)
    assert link and before + link.group(0) + after == page.markdown  # the rest is MinerU's markdown, unchanged
    box = (122, 760, 625, 1204)
    crop = decode(uri)
    assert crop.size == (box[2] - box[0], box[3] - box[1])
    assert crop.convert("RGB").tobytes() == image.crop(box).tobytes()
    assert link.group(1) == figure_name(uri)


def test_pages_are_matched_by_minerus_page_idx_not_by_position():
    # pages 2 and 4 of the file (page_idx 1 and 3): each is the page its page_idx names, and a page
    # MinerU was not asked for is an error, not a page silently put in another one's place.
    document = pages_of(recorded(), [1, 3])
    second, fourth = convert(document, [(10, 10), (20, 20)], indices=[1, 3])
    assert second.markdown == "## 2. Outlook\n\nWe expect revenue to keep growing next year."
    assert fourth.markdown == "## 3. Appendix\n\nDetails follow in the annex."
    with pytest.raises(PagesMismatch, match=r"mineru returned pages \[2, 4\] for pages \[2, 3\]"):
        convert(document, [(10, 10), (20, 20)], indices=[1, 2])


def test_figure_names_are_unique_across_slices_and_the_same_for_the_same_picture():
    # The orchestrator sends each 8-page slice as its own PDF: page 1 of two slices must not give
    # two different figures one name (they used to be images/page1_fig<index>.png).
    long = recorded("long")
    first = pages_of(long, [0])
    ninth = as_first_page(pages_of(long, [8]))
    [page_a] = convert(first, [(595, 842)], [Image.new("RGB", (595, 842), "red")])
    [page_b] = convert(ninth, [(595, 842)], [Image.new("RGB", (595, 842), "blue")])
    [page_c] = convert(first, [(595, 842)], [Image.new("RGB", (595, 842), "red")])
    names = [LINK.findall(page.markdown) for page in (page_a, page_b, page_c)]
    assert all(len(found) == 1 for found in names)
    assert names[0] != names[1] and names[0] == names[2]


def as_first_page(document):
    return {**document, "pages": [{**document["pages"][0], "page_idx": 0}]}


def test_no_picture_minerus_renderer_would_draw_reaches_markdown_as_a_data_uri():
    # MinerU draws a chart's picture beside its table (ignoring an image renderer) and falls back
    # to image_base64 for a table or an equation it could not read: links only in markdown.
    def uri(colour):
        return image_data_uri(Image.new("RGB", (4, 3), colour), fmt="JPEG")

    document = copy.deepcopy(pages_of(recorded(), [0]))
    blocks = document["pages"][0]["blocks"]
    blocks[3]["content"][1].update(content="", image_base64=uri("green"))  # a table kept as a picture
    blocks[4]["content"][0]["image_base64"] = uri("red")  # MinerU's own crop of the figure
    blocks.append(
        {
            "type": "chart",
            "index": 8,
            "bbox": [0.1, 0.7, 0.5, 0.8],
            "content": [
                {
                    "type": "chart_body",
                    "index": 8,
                    "bbox": [0.1, 0.7, 0.5, 0.8],
                    "content": "<table><tr><td>a</td><td>1</td></tr></table>",
                    "image_base64": uri("blue"),
                }
            ],
        }
    )
    blocks.append(
        {"type": "equation", "index": 9, "bbox": [0.1, 0.81, 0.5, 0.85], "content": "", "image_base64": uri("black")}
    )
    [page] = convert(document, [(1000, 2000)], images=[None])  # every picture is MinerU's: no crop
    assert "data:" not in page.markdown
    names = re.findall(r"!\[\]\((images/[0-9a-f]{16}\.jpg)\)", page.markdown)
    assert names == [figure_name(uri(c)) for c in ("green", "red", "blue", "black")]
    assert [page.source_markdown.count(uri(c)) for c in ("green", "red", "blue", "black")] == [1, 1, 1, 1]
    assert "images/" not in page.source_markdown


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
    document = pages_of(recorded(), [1])
    document["pages"][0]["blocks"][1]["content"] = [span]
    page = ParseResult.from_dict(document).pages[0]
    assert block_text(page.blocks[1]) == text
    assert page_blocks(page, 100, 100)[1].text == text


def test_a_list_block_is_one_block_with_its_items_as_lines():
    document = pages_of(recorded(), [1])
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
