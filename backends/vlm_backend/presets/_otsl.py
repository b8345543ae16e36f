"""OTSL tables (the token table format of PaddleOCR-VL and DocTags) as HTML ``<table>``.

OTSL writes a table row by row: ``<fcel>`` opens a cell with text, ``<ecel>`` an empty one,
``<ched>``/``<rhed>``/``<srow>`` a column header, row header or section cell; ``<lcel>`` continues
the cell on the left (a column span), ``<ucel>`` the cell above (a row span), ``<xcel>`` both;
``<nl>`` ends a row. Cells that continue nothing they can attach to become empty cells. The one
reader of OTSL for every preset (PaddleOCR-VL's table mode, DocTags' ``<otsl>`` elements): location
tokens (``<loc_…>``) and markup inside a cell are dropped, its text is escaped once, and rows of
unequal length (an answer cut short) are read as they are, with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape, unescape

_TOKEN = re.compile(r"<(fcel|ecel|ched|rhed|srow|lcel|ucel|xcel|nl)>")
#: What a cell's text loses: closing cell tags, ``<otsl>``, locations, any other markup.
_NOT_TEXT = re.compile(r"</(?:fcel|ecel|ched|rhed|srow|otsl)>|<otsl>|<loc_\d+>")
_MARKUP = re.compile(r"</?[A-Za-z_][^<>]*>")
_OPENING = {"fcel", "ecel", "ched", "rhed", "srow"}
_HEADERS = {"ched", "rhed"}


@dataclass
class _Cell:
    kind: str
    text: str
    row: int
    column: int
    rowspan: int = 1
    colspan: int = 1


def has_otsl(text: str) -> bool:
    """Whether ``text`` holds OTSL cell tokens."""
    return bool(re.search(r"<(fcel|ecel|ched|nl)>", text))


def _rows(otsl: str) -> list[list[tuple[str, str]]]:
    """The ``(token, text)`` cells of each row (closing tags such as ``</fcel>`` ignored)."""
    rows: list[list[tuple[str, str]]] = [[]]
    parts = _TOKEN.split(_NOT_TEXT.sub("", otsl))
    # split gives: text before the first token, then (token, text after it) pairs.
    for token, text in zip(parts[1::2], parts[2::2], strict=False):
        if token == "nl":
            rows.append([])
        else:
            rows[-1].append((token, " ".join(unescape(_MARKUP.sub("", text)).split())))
    return [row for row in rows if row]


def otsl_to_html(otsl: str, warnings: list[str] | None = None) -> str:
    """The table as HTML, spans from ``lcel``/``ucel``/``xcel``; never raises on odd input. Rows of
    unequal length are noted in ``warnings`` when it is given."""
    owners: list[list[_Cell]] = []
    cells: list[_Cell] = []
    read = _rows(otsl)
    if warnings is not None and len({len(row) for row in read}) > 1:
        warnings.append("table rows of unequal length (truncated answer?): read as they are")
    for r, row in enumerate(read):
        line: list[_Cell] = []
        for c, (token, text) in enumerate(row):
            owner = _owner(owners, line, r, c, token)
            if owner is None:
                owner = _Cell(token if token in _OPENING else "ecel", text, r, c)
                cells.append(owner)
            elif token == "lcel" and owner.row == r:
                owner.colspan = max(owner.colspan, c - owner.column + 1)
            elif token == "ucel" and owner.column == c:
                owner.rowspan = max(owner.rowspan, r - owner.row + 1)
            line.append(owner)
        owners.append(line)
    rows: list[list[str]] = [[] for _ in owners]
    for cell in cells:
        tag = "th" if cell.kind in _HEADERS else "td"
        spans = (f' rowspan="{cell.rowspan}"' if cell.rowspan > 1 else "") + (
            f' colspan="{cell.colspan}"' if cell.colspan > 1 else ""
        )
        rows[cell.row].append(f"<{tag}{spans}>{escape(cell.text, quote=False)}</{tag}>")
    return "<table>" + "".join("<tr>" + "".join(row) + "</tr>" for row in rows) + "</table>"


def _owner(owners: list[list[_Cell]], line: list[_Cell], r: int, c: int, token: str) -> _Cell | None:
    """The cell a continuation token belongs to (left for ``lcel``, above for ``ucel``, either for
    ``xcel``); ``None`` for an opening token or a continuation with nothing to continue."""
    left = line[c - 1] if token in ("lcel", "xcel") and c > 0 else None
    above = owners[r - 1][c] if token in ("ucel", "xcel") and r > 0 and c < len(owners[r - 1]) else None
    return left or above
