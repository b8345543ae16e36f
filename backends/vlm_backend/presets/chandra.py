"""Chandra (datalab-to/chandra, a Qwen3-VL fine-tune): HTML layout blocks → markdown and blocks.

Source: github.com/datalab-to/chandra at a6928a27f1b8a9f5117eb75cf38abb45ed1b834d —
``chandra/prompts.py`` (the ``ocr_layout`` and ``ocr`` prompts, its tag list and labels),
``chandra/settings.py`` (``BBOX_SCALE = 1024``: boxes on a 0-1024 grid of the image sent;
``MAX_OUTPUT_TOKENS = 12384``), ``chandra/model/vllm.py`` (temperature 0, top_p 0.1; its retries at
temperature 0.3 on a repeated-token tail are the backend's business), ``chandra/model/util.py``
(``scale_to_fit``: at most 3072 × 2048 pixels, at least 28 × 28). Qwen3-VL merges 16-pixel patches
2 × 2, so sides are multiples of 32.

The layout answer is a run of ``<div data-bbox="x0 y0 x1 y1" data-label="...">`` blocks. As in
Chandra's own ``parse_html``, page headers and footers stay out of the markdown (they are blocks).
The ``ocr`` mode answers the same HTML without the divs: markdown only, no blocks.

Chandra 2 (datalab-to/chandra-ocr-2) writes the same format on a 0-1000 grid with four more labels
(Diagram, Chemical-Block, Bibliography, Blank-Page; read here too): the ``chandra-2`` preset
(:mod:`.chandra_2`) is this parser on its grid, with its prompts put together by :func:`prompts`.
"""

from __future__ import annotations

from functools import partial

from backends.vlm_backend.presets._boxed_html import kind_from_label, parse_boxed_html
from backends.vlm_backend.presets.base import ImageRules, Mode, PageFrame, ParsedPage, Preset, Sampling
from shared.layout import CAPTION, EQUATION, FIGURE, FOOTER, HEADER, TABLE, TEXT, TITLE

GRID = 1024

TAGS = (
    *("math", "br", "i", "b", "u", "del", "sup", "sub", "table", "tr", "td", "p", "th", "div", "pre", "h1"),
    *("h2", "h3", "h4", "h5", "ul", "ol", "li", "input", "a", "span", "img", "hr", "tbody", "small", "caption"),
    *("strong", "thead", "big", "code"),
)
ATTRIBUTES = (
    *("class", "colspan", "rowspan", "display", "checked", "type", "border", "value", "style", "href", "alt"),
    "align",
)
GUIDELINES = {
    "math": "Inline math: Surround math with <math>...</math> tags. Math expressions should be rendered in "
    "KaTeX-compatible LaTeX. Use display for block math.",
    "tables": "Tables: Use colspan and rowspan attributes to match table structure.",
    "formatting": "Formatting: Maintain consistent formatting with the image, including spacing, indentation, "
    "subscripts/superscripts, and special characters.",
    "images": "Images: Include a description of any images in the alt attribute of an <img> tag. Do not fill out "
    "the src property.",
    "forms": "Forms: Mark checkboxes and radio buttons properly.",
    "text": "Text: join lines together properly into paragraphs using <p>...</p> tags.  Use <br> tags for line "
    "breaks within paragraphs, but only when absolutely necessary to maintain meaning.",
    "simplest": "Use the simplest possible HTML structure that accurately represents the content of the block.",
    "accurate": "Make sure the text is accurate and easy for a human to read and interpret.  Reading order should "
    "be correct and natural.",
}
LABELS = (
    *("Caption", "Footnote", "Equation-Block", "List-Group", "Page-Header", "Page-Footer", "Image"),
    *("Section-Header", "Table", "Text", "Complex-Block", "Code-Block", "Form", "Table-Of-Contents", "Figure"),
)


def prompts(
    grid: int, box_format: str, labels: tuple[str, ...], tags: tuple[str, ...], attributes: tuple[str, ...],
    guidelines: dict[str, str],
) -> tuple[str, str]:  # fmt: skip
    """The ``ocr_layout`` and ``ocr`` prompts, put together as ``chandra/prompts.py`` does (tag and
    attribute lists written as Python lists, one ``*`` line a guideline)."""
    ending = f"Only use these tags {list(tags)}, and these attributes {list(attributes)}.\n\nGuidelines:\n" + "\n".join(
        f"* {line}" for line in guidelines.values()
    )
    layout = (
        "OCR this image to HTML, arranged as layout blocks.  Each layout block should be a div with the data-bbox "
        f"attribute representing the bounding box of the block in {box_format} format.  Bboxes are normalized "
        f"0-{grid}. The data-label attribute is the label for the block.\n\nUse the following labels:\n"
        + "\n".join(f"- {label}" for label in labels)
        + f"\n\n{ending}"
    )
    return layout, f"OCR this image to HTML.\n\n{ending}"


LAYOUT_PROMPT, OCR_PROMPT = prompts(GRID, "[x0, y0, x1, y1]", LABELS, TAGS, ATTRIBUTES, GUIDELINES)

#: Chandra's labels as the contract's block types (a footnote, list, form or contents read as text).
LABEL_TYPES = {
    "caption": CAPTION,
    "footnote": TEXT,
    "equation-block": EQUATION,
    "list-group": TEXT,
    "page-header": HEADER,
    "page-footer": FOOTER,
    "image": FIGURE,
    "figure": FIGURE,
    "section-header": TITLE,
    "title": TITLE,
    "table": TABLE,
    "text": TEXT,
    "complex-block": TEXT,
    "code-block": TEXT,
    "form": TEXT,
    "table-of-contents": TEXT,
    # labels Chandra 2 (datalab-to/chandra-ocr-2) adds, as docling's chandra_utils.py lists them
    "chemical-block": TEXT,
    "diagram": FIGURE,
    "bibliography": TEXT,
    "blank-page": TEXT,
}


def parse_on(grid: int, answer: str, frame: PageFrame) -> ParsedPage:
    """Chandra's HTML (layout blocks, or plain HTML in the ``ocr`` mode) as markdown and blocks; as in
    Chandra's own ``parse_html``, page headers and footers are blocks but stay out of the markdown."""
    return parse_boxed_html(
        answer, grid, grid, frame, _KIND, title_level=2, furniture_in_markdown=False
    )  # fmt: skip


_KIND = kind_from_label(LABEL_TYPES)


def chandra_preset(name: str, description: str, grid: int, prompts: tuple[str, str], image: ImageRules) -> Preset:
    """A Chandra version: its prompts, grid and image rules; the modes, parser and sampling (greedy,
    top_p 0.1, 12384 tokens in both versions' ``vllm.py`` and ``settings.py``) are the same."""
    layout, ocr = prompts
    return Preset(
        name=name,
        description=description,
        modes={
            "layout": Mode(layout, "The page as layout blocks (text, tables, math, images) with their boxes"),
            "ocr": Mode(ocr, "The page as HTML without layout blocks: markdown only"),
        },
        default_mode="layout",
        parse=partial(parse_on, grid),
        sampling=Sampling(temperature=0.0, top_p=0.1, max_tokens=12384),
        image=image,
    )


PRESET = chandra_preset(
    "chandra",
    "Chandra (datalab-to/chandra, Qwen3-VL): HTML layout blocks with boxes on a 0-1024 grid",
    GRID,
    (LAYOUT_PROMPT, OCR_PROMPT),
    ImageRules(min_pixels=28 * 28, max_pixels=3072 * 2048, factor=32),
)
