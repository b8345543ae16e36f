"""HTML whose elements carry their box in ``data-bbox="x1 y1 x2 y2"``, read into markdown and blocks:
Qwen-VL's "QwenVL HTML" (any element may be boxed; its tag and class say what it is) and Chandra's
layout blocks (``<div data-bbox data-label>``; the label says what it is).

Each outermost element with a ``data-bbox`` is one block; the caller's ``kind_of`` types it. Its
markdown comes from the one HTML converter (:mod:`._html_markdown`), so both formats read headings,
lists, tables, math and images alike. HTML outside any boxed element still reaches the markdown, in
its place, without a block. An answer with no ``data-bbox`` at all is plain HTML: markdown only.
The grid the boxes are on is the caller's (Qwen2.5-VL: pixels of the image it saw; Qwen3-VL and
Chandra 2: 0-1000; Chandra 1: 0-1024).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

from backends.vlm_backend.presets._html_markdown import html_to_markdown
from backends.vlm_backend.presets._parsing import (
    block_markdown,
    block_type,
    join_markdown,
    numbers,
    strip_fence,
    tidy,
    unheaded,
)
from backends.vlm_backend.presets.base import PageFrame, ParsedPage, scale_box
from shared.api_contract import Block
from shared.layout import CAPTION, EQUATION, FIGURE, FOOTER, HEADER, TABLE, TEXT, TITLE

#: QwenVL HTML: tags and classes that decide a block's type (a class wins over its tag).
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
    **{f"h{level}": TITLE for level in range(1, 7)},
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
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})
#: Elements whose text is not page text.
_HIDDEN = frozenset({"head", "title", "style", "script"})


@dataclass
class Boxed:
    """One boxed element: its tag, its attributes and its HTML (its own tags included)."""

    tag: str
    attributes: Mapping[str, str | None]
    html: list[str] = field(default_factory=list)
    depth: int = 0


#: A boxed element's block type, from its tag, class or label; unknown ones are noted in the warnings.
KindOf = Callable[[Boxed, list[str]], str]


def kind_from_tag(element: Boxed, warnings: list[str]) -> str:
    """QwenVL HTML: the type from the element's class, else its tag; text holding a table is a table."""
    for name in (element.attributes.get("class") or "").lower().split():
        if name in _CLASS_TYPES:
            return _CLASS_TYPES[name]
    kind = _TAG_TYPES.get(element.tag, TEXT)
    return TABLE if kind == TEXT and any(piece.startswith("<table") for piece in element.html) else kind


def kind_from_label(types: Mapping[str, str]) -> KindOf:
    """Chandra: the type from the element's ``data-label`` (an unknown one is text, with a warning)."""
    return lambda element, warnings: block_type(element.attributes.get("data-label"), types, warnings)


class _Reader(HTMLParser):
    """Collects the outermost boxed elements, and the HTML between them, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.current: Boxed | None = None
        self.parts: list[Boxed | str] = []
        self.loose: list[str] = []

    def _write(self, text: str) -> None:
        if self.current is not None:
            self.current.html.append(text)
        elif not any(tag in _HIDDEN for tag in self.open):
            self.loose.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.current is None and any(key == "data-bbox" for key, _ in attrs):
            self._flush_loose()
            self.current = Boxed(tag, dict(attrs), depth=len(self.open))
        self._write(self.get_starttag_text() or f"<{tag}>")
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
            self._write(f"</{closed}>")
            if self.current is not None and len(self.open) == self.current.depth:
                self._close_current()
            if closed == tag:
                break

    def handle_data(self, data: str) -> None:
        self._write(escape(data, quote=False))

    def _close_current(self) -> None:
        assert self.current is not None
        self.parts.append(self.current)
        self.current = None

    def _flush_loose(self) -> None:
        if "".join(self.loose).strip():
            self.parts.append("".join(self.loose))
        self.loose = []

    def finish(self) -> bool:
        """Ends reading; whether an element was still open (the answer was cut short)."""
        self.close()
        cut = self.current is not None
        if cut:
            self._close_current()
        self._flush_loose()
        return cut


def parse_boxed_html(
    answer: str,
    grid_width: float,
    grid_height: float,
    frame: PageFrame,
    kind_of: KindOf,
    *,
    title_level: int = 1,
    furniture_in_markdown: bool = True,
) -> ParsedPage:
    """An answer in boxed HTML as markdown and blocks, boxes read on a ``grid_width`` × ``grid_height``
    grid. A title without a heading of its own gets ``title_level``; page headers and footers stay
    out of the markdown unless ``furniture_in_markdown``. Never raises: an unreadable box drops the
    block (its text stays in the markdown)."""
    warnings: list[str] = []
    reader = _Reader()
    try:
        reader.feed(strip_fence(answer))
    except Exception as error:  # html.parser is lenient; this is a last guard for odd input
        warnings.append(f"HTML not fully read: {error}")
    if reader.finish():
        warnings.append("last block left open (answer cut short?): kept as far as it went")
    if not any(isinstance(part, Boxed) for part in reader.parts):
        return ParsedPage(html_to_markdown("".join(map(str, reader.parts)), warnings), [], warnings)
    markdown: list[str] = []
    blocks: list[Block] = []
    for part in reader.parts:
        if isinstance(part, str):
            text = html_to_markdown(part, warnings)
            markdown.append(text)
            if text:
                warnings.append(f"text outside any block kept in the markdown only: {text[:40]!r}")
            continue
        kind = kind_of(part, warnings)
        text = html_to_markdown("".join(part.html), warnings)
        if furniture_in_markdown or kind not in (HEADER, FOOTER):
            markdown.append(block_markdown(kind, text, title_level))
        raw = part.attributes.get("data-bbox")
        box = scale_box(numbers(raw), grid_width, grid_height, frame)
        if box is None:
            warnings.append(f"<{part.tag}> with a bad box {raw!r}: no block (its text stays in the markdown)")
            continue
        blocks.append(Block(type=kind, bbox=box, text=unheaded(text) if kind == TITLE else text))
    return ParsedPage(markdown=tidy(join_markdown(markdown)), blocks=blocks, warnings=warnings)
