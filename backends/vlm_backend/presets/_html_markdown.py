"""HTML a model writes (paragraphs, headings, lists, ``<math>``, tables...) to the contract's markdown:
headings ``#``, tables kept as HTML, math as LaTeX (``$…$`` inline, ``$$…$$`` for display), an image as
``![its description]()``, checkboxes as ☐/☑. Built on the standard library's ``html.parser``; never
raises on what it reads (a table left open is closed, with a warning)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_BLOCK_TAGS = {"p", "div", "caption", "tbody", "thead"}
_INLINE_MARKS = {"b": "**", "strong": "**", "i": "*", "em": "*"}
_SPACES = re.compile(r"[ \t\r\n]+")
_BULLETS = "•●▪◦·"
#: Inline tags a table cell keeps as they are.
_CELL_MARKS = {"b", "strong", "i", "em", "sup", "sub"}


def _attr(attrs: list[tuple[str, str | None]], name: str) -> str | None:
    return next((value for key, value in attrs if key == name), None)


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.table_depth = 0
        self.math: list[str] | None = None
        self.math_display = False
        self.pre = 0
        self.lists: list[list[int]] = []  # per open list: [ordered (0/1), next number]
        self.open_cells: list[str] = []  # table tags open, innermost last

    def _table_tag(self, tag: str, attrs: list[tuple[str, str | None]], closing: bool = False) -> None:
        if closing:
            if tag not in self.open_cells:
                return
            while self.open_cells:
                inner = self.open_cells.pop()
                self.out.append(f"</{inner}>")
                if inner == tag:
                    return
        self.open_cells.append(tag)
        rendered = "".join(
            f' {key}="{html.escape(value or "", quote=True)}"' for key, value in attrs if key in {"colspan", "rowspan"}
        )
        self.out.append(f"<{tag}{rendered}>")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "math":
            self.math, self.math_display = [], _attr(attrs, "display") == "block"
        elif self.math is not None:
            return
        elif tag == "table":
            if self.table_depth == 0:
                self.out.append("\n\n")
            self.table_depth += 1
            self._table_tag(tag, [])
        elif self.table_depth:
            if tag in {"tr", "td", "th", "thead", "tbody"}:
                self._table_tag(tag, attrs)
            elif tag == "br":
                self.out.append("<br>")
            elif tag in _CELL_MARKS:
                self.out.append(f"<{tag}>")
            elif tag == "input":
                self.handle_startendtag(tag, attrs)
        elif tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in _BLOCK_TAGS:
            self.out.append("\n\n")
        elif tag in _INLINE_MARKS:
            self.out.append(_INLINE_MARKS[tag])
        elif tag == "br":
            self.out.append("\n")
        elif tag == "hr":
            self.out.append("\n\n---\n\n")
        elif tag in {"ul", "ol"}:
            self.lists.append([int(tag == "ol"), 1])
            self.out.append("\n")
        elif tag == "li":
            ordered, number = self.lists[-1] if self.lists else [0, 1]
            indent = "  " * max(len(self.lists) - 1, 0)
            if self.lists:
                self.lists[-1][1] += 1
            self.out.append(f"\n{indent}{f'{number}.' if ordered else '-'} ")
        elif tag == "pre":
            self.pre += 1
            self.out.append("\n\n```\n")
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag in {"img", "input"}:
            self.handle_startendtag(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img" and self.math is None:
            self.out.append(f"\n\n![{_SPACES.sub(' ', _attr(attrs, 'alt') or '').strip()}]()\n\n")
        elif tag == "input" and _attr(attrs, "type") in {"checkbox", "radio"}:
            self.out.append("☑ " if any(key == "checked" for key, _ in attrs) else "☐ ")
        elif tag == "br":
            self.out.append("<br>" if self.table_depth else "\n")
        elif tag != "img":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "math" and self.math is not None:
            latex = "".join(self.math).strip()
            self.math = None
            if self.math_display and not self.table_depth:
                self.out.append(f"\n\n$${latex}$$\n\n")
            else:
                self.out.append(f"${latex}$")
        elif self.math is not None:
            return
        elif tag == "table" and self.table_depth:
            self._table_tag(tag, [], closing=True)
            self.table_depth -= 1
            if self.table_depth == 0:
                self.out.append("\n\n")
        elif self.table_depth:
            if tag in {"tr", "td", "th", "thead", "tbody"}:
                self._table_tag(tag, [], closing=True)
            elif tag in _CELL_MARKS:
                self.out.append(f"</{tag}>")
        elif tag in {"h1", "h2", "h3", "h4", "h5", "h6", *_BLOCK_TAGS}:
            self.out.append("\n\n")
        elif tag in _INLINE_MARKS:
            self.out.append(_INLINE_MARKS[tag])
        elif tag in {"ul", "ol"} and self.lists:
            self.lists.pop()
            self.out.append("\n\n")
        elif tag == "pre" and self.pre:
            self.pre -= 1
            self.out.append("\n```\n\n")
        elif tag == "code" and not self.pre:
            self.out.append("`")

    def handle_data(self, data: str) -> None:
        if self.math is not None:
            self.math.append(data)
        elif self.table_depth:
            if data.strip():  # whitespace between table tags is layout, not content
                self.out.append(html.escape(_SPACES.sub(" ", data), quote=False))
        elif self.pre:
            self.out.append(data)
        else:
            text = _SPACES.sub(" ", data)
            if not self.out or self.out[-1].endswith(("\n", " ")):
                text = text.lstrip()
            if self.out and self.out[-1].endswith(("- ", ". ")) and self.lists:
                text = text.lstrip(_BULLETS).lstrip()  # the model's own bullet after the list marker
            self.out.append(text)


def html_to_markdown(fragment: str, warnings: list[str]) -> str:
    """``fragment`` as markdown; what had to be repaired is appended to ``warnings``."""
    converter = _Converter()
    converter.feed(fragment)
    converter.close()
    if converter.math is not None:
        warnings.append("math left open (truncated answer?): closed")
        converter.handle_endtag("math")
    if converter.table_depth:
        warnings.append("table left open (truncated answer?): closed")
        while converter.table_depth:
            converter.handle_endtag("table")
    if converter.pre:
        converter.handle_endtag("pre")
    return tidy("".join(converter.out))


def tidy(markdown: str) -> str:
    """Trailing spaces off each line, at most one blank line in a row, no blank start or end."""
    lines = [line.rstrip() for line in markdown.split("\n")]
    text = "\n".join(line if line.strip() else "" for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
