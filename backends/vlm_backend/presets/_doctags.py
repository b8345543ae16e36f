"""DocTags (the markup of SmolDocling and Granite-Docling) to markdown and blocks.

Vocabulary from docling-project/docling-core ``docling_core/types/doc/tokens.py`` and the DocTags
its tests load: an element is ``<tag><loc_x0><loc_y0><loc_x1><loc_y1>content</tag>`` with locations
on a 0-500 grid of the page; tables are OTSL (``<fcel>`` a cell with text, ``<ecel>`` an empty one,
``<ched>``/``<rhed>`` column/row headers, ``<srow>`` a section row, ``<lcel>``/``<ucel>``/``<xcel>``
the cell to the left / above / both spans over this place, ``<nl>`` a row's end). Never raises: an
element left open (a truncated answer) is read to the end, an unknown one as text, each with a warning.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from backends.vlm_backend.presets._html_markdown import tidy
from backends.vlm_backend.presets.base import PageFrame, ParsedPage, scale_box
from shared.api_contract import Block
from shared.layout import CAPTION, EQUATION, FIGURE, FOOTER, HEADER, TABLE, TEXT, TITLE

GRID = 500

_TOKEN = re.compile(r"<(/?)([A-Za-z_][\w-]*)>")
_LOC = re.compile(r"<loc_(\d+)>")
_ANY_TAG = re.compile(r"<[^<>]*>")
#: A code element's language, e.g. ``<_Python_>``.
_LANGUAGE = re.compile(r"^<_([^<>]*)_>")
_CELLS = {"fcel", "ecel", "ched", "rhed", "srow", "lcel", "ucel", "xcel", "nl"}
_SPANS = {"lcel", "ucel", "xcel"}

#: Element tags as the contract's block types.
TYPES = {
    "text": TEXT,
    "paragraph": TEXT,
    "title": TITLE,
    "page_header": HEADER,
    "page_footer": FOOTER,
    "picture": FIGURE,
    "chart": FIGURE,
    "caption": CAPTION,
    "formula": EQUATION,
    "code": TEXT,
    "list_item": TEXT,
    "otsl": TABLE,
    "footnote": TEXT,
    "reference": TEXT,
    "checkbox_selected": TEXT,
    "checkbox_unselected": TEXT,
    "form": TEXT,
    "key_value_region": TEXT,
}


_CONTAINERS = {"doctag", "inline", "unordered_list", "ordered_list", "page_break"}


def _is_element(tag: str) -> bool:
    return tag in TYPES or tag in _CONTAINERS or tag.startswith("section_header_level_")


@dataclass
class _Element:
    tag: str
    body: str
    closed: bool


def _elements(text: str) -> list[_Element]:
    """The top-level elements of ``text`` (tokens outside any element are skipped)."""
    found: list[_Element] = []
    position = 0
    while (opening := _TOKEN.search(text, position)) is not None:
        if opening.group(1) or opening.group(2) in _CELLS or opening.group(2).startswith("loc_"):
            position = opening.end()
            continue
        tag, depth, cursor = opening.group(2), 1, opening.end()
        for token in _TOKEN.finditer(text, opening.end()):
            if token.group(2) == tag:
                depth += -1 if token.group(1) else 1
                if depth == 0:
                    found.append(_Element(tag, text[opening.end() : token.start()], True))
                    cursor = token.end()
                    break
        else:
            if not _is_element(tag):
                position = opening.end()  # a marker such as <other> or <_Python_>: no element
                continue
            found.append(_Element(tag, text[opening.end() :], False))
            cursor = len(text)
        position = cursor
    return found


def _location(body: str) -> tuple[list[int], str]:
    """The leading ``<loc_…>`` numbers of ``body`` and the rest."""
    numbers: list[int] = []
    while (match := _LOC.match(body)) is not None and len(numbers) < 4:
        numbers.append(int(match.group(1)))
        body = body[match.end() :]
    return numbers, body


def _plain(body: str) -> str:
    return re.sub(r"[ \t]+", " ", html.unescape(_ANY_TAG.sub("", body))).strip()


def otsl_to_html(body: str, warnings: list[str]) -> str:
    """An OTSL table (cells and ``<nl>``) as an HTML table with colspan/rowspan."""
    rows: list[list[tuple[str, str]]] = [[]]
    for piece in re.split(r"(<(?:fcel|ecel|ched|rhed|srow|lcel|ucel|xcel|nl)>)", _LOC.sub("", body)):
        if piece == "<nl>":
            rows.append([])
        elif piece.startswith("<") and piece[1:-1] in _CELLS:
            rows[-1].append((piece[1:-1], ""))
        elif piece.strip() and rows[-1]:
            kind, text = rows[-1][-1]
            rows[-1][-1] = (kind, text + piece)
    rows = [row for row in rows if row]
    if len({len(row) for row in rows}) > 1:
        warnings.append("table rows of unequal length (truncated answer?): read as they are")

    def at(r: int, c: int) -> str:
        return rows[r][c][0] if r < len(rows) and c < len(rows[r]) else ""

    out = ["<table>"]
    for r, row in enumerate(rows):
        out.append("<tr>")
        for c, (kind, text) in enumerate(row):
            if kind in _SPANS:
                continue
            colspan = 1
            while at(r, c + colspan) in {"lcel", "xcel"}:
                colspan += 1
            rowspan = 1
            while at(r + rowspan, c) in {"ucel", "xcel"}:
                rowspan += 1
            cell = "th" if kind in {"ched", "rhed"} else "td"
            spans = (f' colspan="{colspan}"' if colspan > 1 else "") + (f' rowspan="{rowspan}"' if rowspan > 1 else "")
            out.append(f"<{cell}{spans}>{html.escape(_plain(text), quote=False)}</{cell}>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


class _Reader:
    def __init__(self, frame: PageFrame) -> None:
        self.frame = frame
        self.markdown: list[str] = []
        self.blocks: list[Block] = []
        self.warnings: list[str] = []

    def add(self, kind: str, numbers: list[int], text: str, markdown: str | None = None) -> None:
        """One element: its markdown (none for headers and footers) and its block (none without a box)."""
        markdown = text if markdown is None else markdown
        if markdown and kind not in (HEADER, FOOTER):
            self.markdown.append(markdown)
        box = scale_box(numbers, GRID, GRID, self.frame) if len(numbers) == 4 else None
        if box is None:
            self.warnings.append(f"{kind} without a usable location {numbers}: no block")
            return
        self.blocks.append(Block(type=kind, bbox=box, text=markdown or text))

    def element(self, element: _Element, ordered: bool = False) -> None:
        tag, body = element.tag, element.body
        if not element.closed:
            self.warnings.append(f"<{tag}> left open (truncated answer?): read to the end")
        if tag in {"doctag", "inline"}:
            for child in _elements(body):
                self.element(child)
            return
        if tag in {"unordered_list", "ordered_list"}:
            start = len(self.markdown)
            for child in _elements(body):
                self.element(child, ordered=tag == "ordered_list")
            self.markdown[start:] = ["\n".join(self.markdown[start:])] if len(self.markdown) > start else []
            return
        if tag == "page_break":
            return
        numbers, rest = _location(body)
        heading = re.fullmatch(r"section_header_level_(\d+)", tag)
        if heading:
            text = _plain(rest)
            self.add(TITLE, numbers, text, f"{'#' * min(int(heading.group(1)) + 1, 6)} {text}" if text else "")
        elif tag == "title":
            text = _plain(rest)
            self.add(TITLE, numbers, text, f"# {text}" if text else "")
        elif tag in {"otsl", "picture", "chart"}:
            self.container(tag, numbers, rest)
        elif tag == "formula":
            latex = _plain(rest)
            self.add(EQUATION, numbers, latex, f"$${latex}$$" if latex else "")
        elif tag == "code":
            language = _LANGUAGE.match(rest.strip())
            code = html.unescape(_ANY_TAG.sub("", rest)).strip("\n")
            fence = f"```{language.group(1).lower() if language else ''}\n{code}\n```"
            self.add(TEXT, numbers, code, fence if code.strip() else "")
        elif tag == "list_item":
            text = _plain(rest)
            self.add(TEXT, numbers, text, f"{'1.' if ordered else '-'} {text}" if text else "")
        elif tag == "checkbox_selected" or tag == "checkbox_unselected":
            text = _plain(rest)
            self.add(TEXT, numbers, text, f"{'☑' if tag == 'checkbox_selected' else '☐'} {text}")
        else:
            if tag not in TYPES:
                self.warnings.append(f"unknown element <{tag}> read as text")
            self.add(TYPES.get(tag, TEXT), numbers, _plain(rest))

    def container(self, tag: str, numbers: list[int], body: str) -> None:
        """A table or picture: its captions are blocks of their own, before it in the markdown."""
        captions = [child for child in _elements(body) if child.tag == "caption"]
        for caption in captions:
            self.element(caption)
            body = body.replace(f"<caption>{caption.body}</caption>", "").replace(f"<caption>{caption.body}", "")
        if tag == "otsl" or "<nl>" in body:
            table = otsl_to_html(body, self.warnings)
            self.add(TABLE if tag == "otsl" else FIGURE, numbers, table)
        else:
            self.add(FIGURE, numbers, "", "![]()")


def parse_doctags(answer: str, frame: PageFrame) -> ParsedPage:
    """A DocTags answer (anything before ``<doctag>`` and after ``</doctag>`` ignored) as a page."""
    start = answer.find("<doctag>")
    body = answer[start:] if start >= 0 else answer
    reader = _Reader(frame)
    elements = _elements(body)
    if not elements and body.strip():
        reader.warnings.append("no DocTags elements: the answer kept as text")
        reader.markdown.append(_plain(body))
    for element in elements:
        if element.tag == "doctag" and not element.closed:
            # vLLM drops the stop string ``</doctag>``: an open root is the normal end.
            element = _Element("doctag", element.body, True)
        reader.element(element)
    return ParsedPage(tidy("\n\n".join(reader.markdown)), reader.blocks, reader.warnings)
