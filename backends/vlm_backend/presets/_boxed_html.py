"""HTML whose elements carry their box in ``data-bbox="x1 y1 x2 y2"`` (Qwen-VL's "QwenVL HTML"
document parsing format) read into markdown and blocks.

Each outermost element with a ``data-bbox`` is one block; its type follows its tag and class
(headings are titles, tables keep their HTML, images are figures). Text outside any boxed element
still reaches the markdown, without a block. The grid the boxes are on is the caller's: Qwen2.5-VL
answers in pixels of the image it saw, Qwen3-VL on a 0-1000 grid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

from backends.vlm_backend.presets._parsing import block_markdown, join_markdown, numbers, strip_fence
from backends.vlm_backend.presets.base import PageFrame, ParsedPage, scale_box
from shared.api_contract import Block
from shared.layout import CAPTION, EQUATION, FIGURE, FOOTER, HEADER, TABLE, TEXT, TITLE

_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})
#: Elements whose text is not page text.
_HIDDEN = frozenset({"head", "title", "style", "script"})
#: Tags and classes that decide a block's type (a class wins over its tag).
_TAG_TYPES = {
    "table": TABLE,
    "img": FIGURE,
    "figure": FIGURE,
    "svg": FIGURE,
    "figcaption": CAPTION,
    "caption": CAPTION,
    "header": HEADER,
    "footer": FOOTER,
    "math": EQUATION,
}
_CLASS_TYPES = {
    "image": FIGURE,
    "chart": FIGURE,
    "figure": FIGURE,
    "formula": EQUATION,
    "equation": EQUATION,
    "caption": CAPTION,
    "header": HEADER,
    "page-header": HEADER,
    "footer": FOOTER,
    "page-footer": FOOTER,
    "footnote": TEXT,
}
#: What an element inside a block starts in the block's text: a new line, a list item's dash.
_LINE_STARTS = {tag: "\n" for tag in ("br", "p", "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd")} | {
    "li": "\n- "
}
_BBOX_ATTRIBUTE = re.compile(r"""\s+data-bbox\s*=\s*("[^"]*"|'[^']*'|\S+)""")


@dataclass
class _Element:
    """One boxed element being read: its tag, type, raw box and what it holds."""

    tag: str
    kind: str
    level: int
    box: str | None
    depth: int
    text: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    """Collects the outermost boxed elements, and the text between them, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.current: _Element | None = None
        self.parts: list[_Element | str] = []
        self.loose: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if self.current is None and "data-bbox" in attributes:
            self._flush_loose()
            self.current = _Element(
                tag, _type_of(tag, attributes.get("class") or ""), _level(tag), attributes["data-bbox"], len(self.open)
            )
        elif self.current is not None:
            self.current.html.append(_BBOX_ATTRIBUTE.sub("", self.get_starttag_text() or f"<{tag}>"))
            self.current.text.append(_LINE_STARTS.get(tag, ""))
        if tag not in _VOID:
            self.open.append(tag)
        elif self.current is not None and self.current.depth == len(self.open):
            self._close_current()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.open:
            return
        while self.open:
            closed = self.open.pop()
            if self.current is not None and len(self.open) == self.current.depth:
                self._close_current()
            elif self.current is not None:
                self.current.html.append(f"</{closed}>")
            if closed == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.current is not None:
            self.current.text.append(data)
            self.current.html.append(escape(data, quote=False))
        elif not (self.open and self.open[-1] in _HIDDEN):
            self.loose.append(data)

    def _close_current(self) -> None:
        assert self.current is not None
        self.parts.append(self.current)
        self.current = None

    def _flush_loose(self) -> None:
        text = " ".join("".join(self.loose).split())
        if text:
            self.parts.append(text)
        self.loose = []

    def finish(self) -> bool:
        """Ends reading; whether an element was still open (the answer was cut short)."""
        self.close()
        cut = self.current is not None
        if cut:
            self._close_current()
        self._flush_loose()
        return cut


def _type_of(tag: str, classes: str) -> str:
    for name in classes.lower().split():
        if name in _CLASS_TYPES:
            return _CLASS_TYPES[name]
    if re.fullmatch(r"h[1-6]", tag):
        return TITLE
    return _TAG_TYPES.get(tag, TEXT)


def _level(tag: str) -> int:
    return int(tag[1]) if re.fullmatch(r"h[1-6]", tag) else 1


def _block_text(element: _Element) -> str:
    if element.kind == TABLE or (element.kind == TEXT and "<table" in "".join(element.html)):
        inner = "".join(element.html).strip()
        return inner if element.tag != "table" else f"<table>{inner}</table>"
    lines = "".join(element.text).split("\n")
    text = "\n".join(" ".join(line.split()) for line in lines if line.strip())
    return f"- {text}" if element.tag == "li" and text else text


def parse_boxed_html(answer: str, grid_width: float, grid_height: float, frame: PageFrame) -> ParsedPage:
    """An answer in boxed HTML as markdown and blocks, boxes read on a ``grid_width`` × ``grid_height``
    grid. Never raises: an unreadable box drops the block (its text stays in the markdown)."""
    warnings: list[str] = []
    reader = _Reader()
    try:
        reader.feed(strip_fence(answer))
    except Exception as error:  # html.parser is lenient; this is a last guard for odd input
        warnings.append(f"HTML not fully read: {error}")
    if reader.finish():
        warnings.append("HTML answer cut short: its last element kept as far as it went")
    markdown: list[str] = []
    blocks: list[Block] = []
    for part in reader.parts:
        if isinstance(part, str):
            markdown.append(part)
            warnings.append(f"text without a data-bbox kept in the markdown only: {part[:40]!r}")
            continue
        text = _block_text(part)
        kind = TABLE if part.kind == TEXT and text.startswith("<table") else part.kind
        markdown.append(block_markdown(kind, text, part.level))
        box = scale_box(numbers(part.box), grid_width, grid_height, frame)
        if box is None:
            warnings.append(f"<{part.tag}> with unreadable data-bbox {part.box!r} dropped from the blocks")
            continue
        blocks.append(Block(type=kind, bbox=box, text=text))
    return ParsedPage(markdown=join_markdown(markdown), blocks=blocks, warnings=warnings)
