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

Chandra 2 (datalab-to/chandra-ocr-2, March 2026) writes the same format on a 0-1000 grid with four
more labels (Diagram, Chemical-Block, Bibliography, Blank-Page; read here too); its prompt was not
in the index with the official repository, so this preset is Chandra 1's. Its boxes read with this
preset's grid come out 2.4 % too small; a ``chandra-2`` preset would be this parser on GRID 1000.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from backends.vlm_backend.presets._html_markdown import html_to_markdown, tidy
from backends.vlm_backend.presets.base import ImageRules, Mode, PageFrame, ParsedPage, Preset, Sampling, scale_box
from shared.api_contract import Block
from shared.layout import CAPTION, EQUATION, FIGURE, FOOTER, HEADER, TABLE, TEXT, TITLE

GRID = 1024

_TAGS = (
    "['math', 'br', 'i', 'b', 'u', 'del', 'sup', 'sub', 'table', 'tr', 'td', 'p', 'th', 'div', 'pre', 'h1', "
    "'h2', 'h3', 'h4', 'h5', 'ul', 'ol', 'li', 'input', 'a', 'span', 'img', 'hr', 'tbody', 'small', 'caption', "
    "'strong', 'thead', 'big', 'code']"
)
_ATTRIBUTES = (
    "['class', 'colspan', 'rowspan', 'display', 'checked', 'type', 'border', 'value', 'style', 'href', 'alt', 'align']"
)
_ENDING = f"""Only use these tags {_TAGS}, and these attributes {_ATTRIBUTES}.

Guidelines:
* Inline math: Surround math with <math>...</math> tags. Math expressions should be rendered in KaTeX-compatible LaTeX. Use display for block math.
* Tables: Use colspan and rowspan attributes to match table structure.
* Formatting: Maintain consistent formatting with the image, including spacing, indentation, subscripts/superscripts, and special characters.
* Images: Include a description of any images in the alt attribute of an <img> tag. Do not fill out the src property.
* Forms: Mark checkboxes and radio buttons properly.
* Text: join lines together properly into paragraphs using <p>...</p> tags.  Use <br> tags for line breaks within paragraphs, but only when absolutely necessary to maintain meaning.
* Use the simplest possible HTML structure that accurately represents the content of the block.
* Make sure the text is accurate and easy for a human to read and interpret.  Reading order should be correct and natural."""  # noqa: E501

_LABELS = (
    "Caption",
    "Footnote",
    "Equation-Block",
    "List-Group",
    "Page-Header",
    "Page-Footer",
    "Image",
    "Section-Header",
    "Table",
    "Text",
    "Complex-Block",
    "Code-Block",
    "Form",
    "Table-Of-Contents",
    "Figure",
)
LAYOUT_PROMPT = (
    "OCR this image to HTML, arranged as layout blocks.  Each layout block should be a div with the data-bbox "
    "attribute representing the bounding box of the block in [x0, y0, x1, y1] format.  Bboxes are normalized "
    f"0-{GRID}. The data-label attribute is the label for the block.\n\nUse the following labels:\n"
    + "\n".join(f"- {label}" for label in _LABELS)
    + f"\n\n{_ENDING}"
)
OCR_PROMPT = f"OCR this image to HTML.\n\n{_ENDING}"

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
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass
class _Div:
    label: str | None
    bbox: str | None
    inner: str


class _Splitter(HTMLParser):
    """Cuts an answer into its top-level ``<div>`` blocks (raw inner HTML) and what lies between them."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.divs: list[_Div] = []
        self.stray: list[str] = []
        self.truncated = False
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.source)]
        self._depth = 0
        self._open: tuple[dict[str, str | None], int] | None = None
        self._last_end = 0

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "div":
            return
        if self._depth == 0:
            start = self._offset()
            self._keep_stray(start)
            self._open = (dict(attrs), start + len(self.get_starttag_text() or ""))
        self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag != "div" or self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0 and self._open is not None:
            end = self._offset()
            self._close(self.source[self._open[1] : end])
            self._last_end = end + len("</div>")

    def _close(self, inner: str) -> None:
        assert self._open is not None
        attrs = self._open[0]
        self.divs.append(_Div(attrs.get("data-label"), attrs.get("data-bbox"), inner))
        self._open = None

    def _keep_stray(self, end: int) -> None:
        text = self.source[self._last_end : end]
        if text.strip():
            self.stray.append(text)

    def finish(self) -> None:
        self.close()
        if self._open is not None:
            self.truncated = True
            self._close(self.source[self._open[1] :])
        else:
            self._keep_stray(len(self.source))


def _box(raw: str | None, frame: PageFrame) -> tuple[float, float, float, float] | None:
    numbers = [float(n) for n in _NUMBER.findall(raw or "")]
    return scale_box(numbers, GRID, GRID, frame)


def parse(answer: str, frame: PageFrame) -> ParsedPage:
    """Chandra's HTML (layout blocks, or plain HTML in the ``ocr`` mode) as markdown and blocks."""
    warnings: list[str] = []
    splitter = _Splitter(answer)
    splitter.feed(answer)
    splitter.finish()
    if not any(div.bbox is not None for div in splitter.divs):  # the ``ocr`` mode, or divs without boxes
        return ParsedPage(html_to_markdown(answer, warnings), [], warnings)
    if splitter.truncated:
        warnings.append("last block left open (truncated answer?): kept as it stands")
    for text in splitter.stray:
        warnings.append(f"text outside any block kept as markdown only: {html.unescape(text.strip())[:60]!r}")
    parts: list[str] = []
    blocks: list[Block] = []
    for index, div in enumerate(splitter.divs):
        markdown = html_to_markdown(div.inner, warnings)
        label = (div.label or "").strip()
        kind = LABEL_TYPES.get(label.lower())
        if kind is None:
            warnings.append(f"block {index}: unknown label {label!r} read as text")
            kind = TEXT
        if kind == TITLE and markdown and not markdown.startswith("#"):
            markdown = f"## {markdown}"
        if kind == EQUATION and markdown and "$" not in markdown:
            markdown = f"$${markdown}$$"
        if kind not in (HEADER, FOOTER) and markdown:
            parts.append(markdown)
        box = _box(div.bbox, frame)
        if box is None:
            warnings.append(f"block {index} ({label or 'no label'}): bad box {div.bbox!r}, block dropped")
            continue
        blocks.append(Block(type=kind, bbox=box, text=markdown))
    parts.extend(html_to_markdown(text, warnings) for text in splitter.stray)
    return ParsedPage(tidy("\n\n".join(part for part in parts if part)), blocks, warnings)


PRESET = Preset(
    name="chandra",
    description="Chandra (datalab-to/chandra, Qwen3-VL): HTML layout blocks with boxes on a 0-1024 grid",
    modes={
        "layout": Mode(LAYOUT_PROMPT, "The page as layout blocks (text, tables, math, images) with their boxes"),
        "ocr": Mode(OCR_PROMPT, "The page as HTML without layout blocks: markdown only"),
    },
    default_mode="layout",
    parse=parse,
    sampling=Sampling(temperature=0.0, top_p=0.1, max_tokens=12384),
    image=ImageRules(min_pixels=28 * 28, max_pixels=3072 * 2048, factor=32),
)
