"""dots.ocr (``rednote-hilab/dots.ocr``): layout detection and recognition in one answer.

Sources (rednote-hilab/dots.ocr, release commit be77dff, same text at 36d7248):

- ``dots_ocr/utils/prompts.py``: the prompts of the modes, verbatim (``prompt_layout_all_en``,
  ``prompt_layout_only_en``, ``prompt_ocr``). ``prompt_grounding_ocr`` needs a box from the caller
  and reads one region, not a page: not offered.
- ``dots_ocr/parser.py``: temperature 0.1, top_p 1.0, max_completion_tokens 16384 (no repetition
  guard); ``dots_ocr/utils/consts.py``: MIN_PIXELS 3136, MAX_PIXELS 11289600, IMAGE_FACTOR 28.

The layout answer is a JSON list of ``{"bbox": [x1, y1, x2, y2], "category": …, "text": …}`` with
boxes in pixels of the image the model saw (after its smart_resize), scaled here from
``frame.sent_width`` × ``frame.sent_height`` to the page. Text comes as markdown, formulas as LaTeX,
tables as HTML; pictures have no text. A list cut short keeps its complete items.
"""

from __future__ import annotations

from typing import Any

from backends.vlm_backend.presets._parsing import (
    block_markdown,
    block_type,
    join_markdown,
    json_items,
    strip_fence,
    unheaded,
)
from backends.vlm_backend.presets.base import ImageRules, Mode, PageFrame, ParsedPage, Preset, Sampling, scale_box
from shared.api_contract import Block
from shared.layout import CAPTION, EQUATION, FIGURE, FOOTER, HEADER, TABLE, TEXT, TITLE

CATEGORIES = ["Caption", "Footnote", "Formula", "List-item", "Page-footer", "Page-header", "Picture",
              "Section-header", "Table", "Text", "Title"]  # fmt: skip
_CATEGORY_LIST = "[" + ", ".join(f"'{c}'" for c in CATEGORIES) + "]"

#: dots.ocr's categories as the contract's block types (a footnote and a list item read as text).
TYPES = {
    "caption": CAPTION,
    "footnote": TEXT,
    "formula": EQUATION,
    "list-item": TEXT,
    "page-footer": FOOTER,
    "page-header": HEADER,
    "picture": FIGURE,
    "section-header": TITLE,
    "table": TABLE,
    "text": TEXT,
    "title": TITLE,
}
#: Heading levels in the markdown: the title ``#``, section headers ``##``.
_LEVELS = {"title": 1, "section-header": 2}

MODES = {
    "layout-all": Mode(
        prompt=(
            "Please output the layout information from the PDF image, including each layout element's bbox, "
            "its category, and the corresponding text content within the bbox.\n\n"
            "1. Bbox format: [x1, y1, x2, y2]\n\n"
            f"2. Layout Categories: The possible categories are {_CATEGORY_LIST}.\n\n"
            "3. Text Extraction & Formatting Rules:\n"
            "    - Picture: For the 'Picture' category, the text field should be omitted.\n"
            "    - Formula: Format its text as LaTeX.\n"
            "    - Table: Format its text as HTML.\n"
            "    - All Others (Text, Title, etc.): Format their text as Markdown.\n\n"
            "4. Constraints:\n"
            "    - The output text must be the original text from the image, with no translation.\n"
            "    - All layout elements must be sorted according to human reading order.\n\n"
            "5. Final Output: The entire output must be a single JSON object.\n"
        ),
        description="Layout and text: every element with its box, category and content (prompt_layout_all_en).",
    ),
    "layout-only": Mode(
        prompt=(
            "Please output the layout information from this PDF image, including each layout's bbox and its "
            "category. The bbox should be in the format [x1, y1, x2, y2]. The layout categories for the PDF "
            f"document include {_CATEGORY_LIST}. Do not output the corresponding text. The layout result should "
            "be in JSON format."
        ),
        description="Layout only: boxes and categories, no text (prompt_layout_only_en).",
    ),
    "ocr": Mode(
        prompt="Extract the text content from this image.",
        description="Text only, without page headers and footers; no boxes (prompt_ocr).",
    ),
}


def _item_block(item: Any, frame: PageFrame, warnings: list[str]) -> tuple[str, Block | None]:
    """One layout item as its markdown and its block (``None`` when its box is unreadable)."""
    if not isinstance(item, dict):
        warnings.append(f"layout item that is not an object dropped: {str(item)[:40]!r}")
        return "", None
    category = item.get("category")
    kind = block_type(category, TYPES, warnings)
    text = item.get("text")
    text = text if isinstance(text, str) else ""
    level = _LEVELS.get(str(category).strip().lower(), 2)
    markdown = "" if kind == FIGURE else block_markdown(kind, text, level)
    box = scale_box(item.get("bbox"), frame.sent_width, frame.sent_height, frame)
    if box is None:
        warnings.append(f"{category!r} item with unreadable bbox {item.get('bbox')!r} dropped from the blocks")
        return markdown, None
    return markdown, Block(type=kind, bbox=box, text=unheaded(text) if kind == TITLE else text.strip())


def parse(answer: str, frame: PageFrame) -> ParsedPage:
    """A layout answer (JSON) as blocks and markdown in reading order; any other answer (the ``ocr``
    mode, a custom prompt) as markdown without blocks."""
    body = strip_fence(answer)
    if not body.startswith(("[", "{")):
        return ParsedPage(markdown=body)
    warnings: list[str] = []
    markdown: list[str] = []
    blocks: list[Block] = []
    for item in json_items(body, warnings):
        text, block = _item_block(item, frame, warnings)
        markdown.append(text)
        if block is not None:
            blocks.append(block)
    return ParsedPage(markdown=join_markdown(markdown), blocks=blocks, warnings=warnings)


PRESET = Preset(
    name="dots-ocr",
    description="dots.ocr; prompts and settings from rednote-hilab/dots.ocr (prompts.py, parser.py, consts.py).",
    modes=MODES,
    default_mode="layout-all",
    parse=parse,
    sampling=Sampling(temperature=0.1, top_p=1.0, max_tokens=16384),
    image=ImageRules(min_pixels=3136, max_pixels=11289600, factor=28),
)
