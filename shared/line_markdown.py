"""Markdown from plain text lines: paragraphs in reading order, markdown syntax at line starts escaped.

Used by backends whose model yields text lines or words without document structure (rapidocr,
tesseract), in paragraphs or in layout blocks. OCR'd text is literal text: a scanned "# 1" or
"- item" must not turn into a heading or a list when the markdown is rendered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from statistics import median
from typing import TypeVar

from shared.layout import TITLE
from shared.layout_blocks import LayoutBlock
from shared.reading_order import Line, same_row
from shared.table import table_markdown

T = TypeVar("T")

_MARKER_START = re.compile(r"^(\s*)([#>+\-*=|])")
_NUMBERED_START = re.compile(r"^(\s*\d+)([.)])(?=\s|$)")


def escape_line_start(text: str) -> str:
    """Backslash-escape a markdown block marker (heading, quote, list, rule, table) at the start.

    Only punctuation can be escaped in markdown, so in ``12. point`` the dot gets the backslash.
    """
    escaped = _MARKER_START.sub(r"\1\\\2", text, count=1)
    return _NUMBERED_START.sub(r"\1\\\2", escaped, count=1)


def paragraph_text(paragraph: Sequence[Line[T]], text_of: Callable[[T], str]) -> str:
    """Lines on one row are joined by a space; rows by a newline (a soft break in markdown)."""
    rows: list[str] = []
    previous: Line[T] | None = None
    for line in paragraph:
        text = text_of(line.item).strip()
        if not text:
            continue
        if previous is not None and rows and same_row(previous, line):
            rows[-1] += " " + text
        else:
            rows.append(escape_line_start(text))
        previous = line
    return "\n".join(rows)


def paragraphs_to_markdown(paragraphs: Sequence[Sequence[Line[T]]], text_of: Callable[[T], str]) -> str:
    """Paragraphs (from :func:`shared.reading_order.group_paragraphs`) as markdown, blank-line separated."""
    texts = (paragraph_text(p, text_of) for p in paragraphs)
    return "\n\n".join(t for t in texts if t)


def blocks_to_markdown(blocks: Sequence[LayoutBlock[T]], text_of: Callable[[T], str]) -> str:
    """Blocks (from :func:`shared.layout_blocks.page_blocks`) as markdown: titles as headings (``#``
    for the page's tallest title lines, ``##`` for the others), tables as tables, every other block
    as its paragraphs."""
    title_heights = [median(line.height for line in b.lines) for b in blocks if b.type == TITLE and b.lines]
    parts: list[str] = []
    for block in blocks:
        if block.table is not None:
            parts.append(table_markdown(block.table, text_of))
        elif block.type == TITLE and block.lines:
            text = " ".join(paragraph_text(p, text_of).replace("\n", " ") for p in block.paragraphs).strip()
            level = "#" if median(line.height for line in block.lines) >= 0.9 * max(title_heights) else "##"
            parts.append(f"{level} {escape_line_start(text)}" if text else "")
        else:
            parts.append(paragraphs_to_markdown(block.paragraphs, text_of))
    return "\n\n".join(part for part in parts if part)
