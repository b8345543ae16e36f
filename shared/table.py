"""A table from the text boxes inside a table region: rows, columns and cells, read row by row.

Boxes (OCR lines or words) on one row are clustered into rows by vertical overlap; boxes of a row
closer than a line height are one cell; columns are the x-ranges between gutters that (almost) no
row's cells cross. A cell over a gutter spans columns. Rendered as a markdown table, or as HTML
when a cell spans columns (markdown has no spans).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median
from typing import Generic, TypeVar

from shared.reading_order import Line

T = TypeVar("T")

#: Boxes of one row closer than this many line heights are the words of one cell.
CELL_GAP = 1.0
#: A gutter is at least this many line heights wide...
MIN_GUTTER = 0.5
#: ...and crossed by fewer than this share of the rows (a spanning cell may cross it).
CROSSING_ROWS = 0.25


@dataclass
class Cell(Generic[T]):
    """A cell: its row, first column, how many columns it spans, its boxes left to right."""

    row: int
    column: int
    span: int
    boxes: list[Line[T]]

    @property
    def x1(self) -> float:
        return self.boxes[0].x1

    @property
    def x2(self) -> float:
        return max(box.x2 for box in self.boxes)


@dataclass
class Table(Generic[T]):
    rows: int
    columns: int
    cells: list[Cell[T]]  # row-major

    def boxes(self) -> list[Line[T]]:
        """Every box, row by row, left to right."""
        return [box for cell in self.cells for box in cell.boxes]


def _rows(boxes: Sequence[Line[T]]) -> list[list[Line[T]]]:
    """Boxes grouped into rows (top to bottom), each row left to right: a box joins the row whose
    vertical extent it overlaps by more than half of the smaller height."""
    rows: list[list[Line[T]]] = []
    extents: list[tuple[float, float]] = []
    for box in sorted(boxes, key=lambda b: (b.y1 + b.y2) / 2):
        if rows:
            top, bottom = extents[-1]
            row_height = median(b.height for b in rows[-1])
            if min(bottom, box.y2) - max(top, box.y1) > 0.5 * min(row_height, box.height):
                rows[-1].append(box)
                extents[-1] = (min(top, box.y1), max(bottom, box.y2))
                continue
        rows.append([box])
        extents.append((box.y1, box.y2))
    return [sorted(row, key=lambda b: b.x1) for row in rows]


def _cells(row: list[Line[T]], gap: float) -> list[list[Line[T]]]:
    cells: list[list[Line[T]]] = [[row[0]]]
    for box in row[1:]:
        if box.x1 - max(b.x2 for b in cells[-1]) < gap:
            cells[-1].append(box)
        else:
            cells.append([box])
    return cells


def _gutters(rows: list[list[list[Line[T]]]], height: float) -> list[float]:
    """x positions (middles) of the column gutters: runs of the x-axis that fewer than
    :data:`CROSSING_ROWS` of the rows with two or more cells cover (none, for a small table)."""
    multi = [[(cell[0].x1, max(b.x2 for b in cell)) for cell in row] for row in rows if len(row) > 1]
    if not multi:
        return []
    edges = sorted({x for row in multi for cell in row for x in cell})
    allowed = max(1.0, CROSSING_ROWS * len(multi))
    runs: list[list[float]] = []  # [start, end] of uncovered runs, in order
    for a, b in pairwise(edges):
        middle = (a + b) / 2
        covering = sum(1 for row in multi if any(x1 < middle < x2 for x1, x2 in row))
        if covering >= allowed:
            continue
        if runs and runs[-1][1] == a:
            runs[-1][1] = b
        else:
            runs.append([a, b])
    inner = [(start, end) for start, end in runs if edges[0] < start and end < edges[-1]]
    return [(start + end) / 2 for start, end in inner if end - start >= MIN_GUTTER * height]


def cluster_table(boxes: Sequence[Line[T]]) -> Table[T]:
    """The table the boxes make (see the module docstring)."""
    if not boxes:
        return Table(0, 0, [])
    height = median(box.height for box in boxes)
    rows = [_cells(row, CELL_GAP * height) for row in _rows(boxes)]
    gutters = _gutters(rows, height)
    columns = len(gutters) + 1
    cells: list[Cell[T]] = []
    for number, row in enumerate(rows):
        placed: list[Cell[T]] = []
        for cell_boxes in row:
            x1, x2 = cell_boxes[0].x1, max(b.x2 for b in cell_boxes)
            first = sum(1 for g in gutters if g < x1)
            last = sum(1 for g in gutters if g < x2)
            if placed and placed[-1].column + placed[-1].span - 1 >= first:
                # Same column as the cell before it (a gutter other rows do not have): one cell.
                previous = placed[-1]
                previous.boxes += cell_boxes
                previous.span = max(previous.span, last - previous.column + 1)
                continue
            placed.append(Cell(number, first, last - first + 1, list(cell_boxes)))
        cells += placed
    return Table(len(rows), columns, cells)


def _grid(table: Table[T], text_of: Callable[[T], str]) -> list[list[tuple[str, int]]]:
    """Each row as (text, span) for every column from the first, empty cells filled in."""
    grid: list[list[tuple[str, int]]] = []
    for number in range(table.rows):
        row: list[tuple[str, int]] = []
        column = 0
        for cell in (c for c in table.cells if c.row == number):
            row += [("", 1)] * (cell.column - column)
            text = " ".join(t for t in (text_of(box.item).strip() for box in cell.boxes) if t)
            row.append((text, cell.span))
            column = cell.column + cell.span
        row += [("", 1)] * (table.columns - column)
        grid.append(row)
    return grid


def table_markdown(table: Table[T], text_of: Callable[[T], str]) -> str:
    """The table as markdown (first row as its header), or as HTML when a cell spans columns."""
    grid = _grid(table, text_of)
    if not grid:
        return ""
    if any(span > 1 for row in grid for _, span in row):
        body = "".join(
            "<tr>"
            + "".join(
                f'<td colspan="{span}">{html.escape(text)}</td>' if span > 1 else f"<td>{html.escape(text)}</td>"
                for text, span in row
            )
            + "</tr>"
            for row in grid
        )
        return f"<table>{body}</table>"
    lines = ["| " + " | ".join(text.replace("|", "\\|") for text, _ in row) + " |" for row in grid]
    lines.insert(1, "|" + "---|" * table.columns)
    return "\n".join(lines)
