"""Reading order and paragraphs for text lines that come without layout (e.g. a line detector).

Order comes from an XY-cut: a region is first split into columns at vertical gutters
wide enough to be real column gaps; failing that, it is split in two at its widest horizontal gap;
a region that cannot be split is read top to bottom, left to right. A gutter is no column gap when
the lines either side of it pair up row by row across a wide gap or beside a narrow strip (a
receipt's labels and amounts, a form's fields): those rows are read whole. Consecutive lines are
then joined into paragraphs when they sit close below each other in the same column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Line(Generic[T]):
    """A text line's box ``(x1, y1, x2, y2)`` and whatever the caller wants back (``item``)."""

    x1: float
    y1: float
    x2: float
    y2: float
    item: T

    @property
    def height(self) -> float:
        return max(self.y2 - self.y1, 1.0)


def same_row(a: Line[T], b: Line[T]) -> bool:
    overlap = min(a.y2, b.y2) - max(a.y1, b.y1)
    return overlap > 0.5 * min(a.height, b.height)


def _gaps(intervals: list[tuple[float, float]], min_gap: float) -> list[tuple[float, float]]:
    """Gaps of at least ``min_gap`` between the union of ``intervals``, as ``(start, end)``."""
    gaps: list[tuple[float, float]] = []
    ordered = sorted(intervals)
    reach = ordered[0][1]
    for start, end in ordered[1:]:
        if start - reach >= min_gap and start > reach:
            gaps.append((reach, start))
        reach = max(reach, end)
    return gaps


#: Lines either side of a gutter are rows of one run (not two columns) when at least this share of
#: the side with fewer lines has a partner on the same row across it...
ROW_PAIRED = 0.6
#: ...and the gutter is wider than this many line heights (column gutters are narrower)...
WIDE_GUTTER = 6.0
#: ...or one side is narrower than this many line heights (amounts, not a column of text).
NARROW_SIDE = 6.0


def row_linked(left: Sequence[Line[T]], right: Sequence[Line[T]], typical: float) -> bool:
    """Whether the lines left and right of a vertical gap are the halves of rows (label ... value)
    rather than two columns of text."""
    if not left or not right:
        return False
    fewer, other = sorted((left, right), key=len)
    paired = sum(1 for a in fewer if any(same_row(a, b) for b in other))
    if paired < ROW_PAIRED * len(fewer):
        return False
    gutter = min(line.x1 for line in right) - max(line.x2 for line in left)
    narrowest = min(max(line.x2 for line in side) - min(line.x1 for line in side) for side in (left, right))
    return gutter > WIDE_GUTTER * typical or narrowest < NARROW_SIDE * typical


def _split_columns(lines: list[Line[T]], min_gap: float, typical: float | None) -> list[list[Line[T]]]:
    """Split at every column gutter; with ``typical`` (a line height), gutters whose sides are
    :func:`row_linked` are kept whole."""
    gaps = _gaps([(line.x1, line.x2) for line in lines], min_gap)
    cuts = [(a + b) / 2 for a, b in gaps]
    if typical is not None:
        cuts = [
            cut
            for cut in cuts
            if not row_linked(
                [line for line in lines if (line.x1 + line.x2) / 2 < cut],
                [line for line in lines if (line.x1 + line.x2) / 2 > cut],
                typical,
            )
        ]
    if not cuts:
        return [lines]
    columns: list[list[Line[T]]] = [[] for _ in range(len(cuts) + 1)]
    for line in lines:
        columns[sum(1 for c in cuts if (line.x1 + line.x2) / 2 > c)].append(line)
    return [c for c in columns if c]


def _split_widest_row_gap(lines: list[Line[T]]) -> list[list[Line[T]]]:
    gaps = _gaps([(line.y1, line.y2) for line in lines], 0.0)
    if not gaps:
        return [lines]
    start, end = max(gaps, key=lambda g: g[1] - g[0])
    cut = (start + end) / 2
    top = [line for line in lines if (line.y1 + line.y2) / 2 < cut]
    bottom = [line for line in lines if (line.y1 + line.y2) / 2 >= cut]
    return [top, bottom]


def _row_sorted(lines: list[Line[T]]) -> list[Line[T]]:
    """Top to bottom; lines overlapping vertically by more than half read left to right."""
    rows: list[list[Line[T]]] = []
    for line in sorted(lines, key=lambda line: (line.y1 + line.y2) / 2):
        row = rows[-1] if rows else None
        if row is not None:
            ref = row[-1]
            overlap = min(ref.y2, line.y2) - max(ref.y1, line.y1)
            if overlap > 0.5 * min(ref.height, line.height):
                row.append(line)
                continue
        rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda line: line.x1)]


def _xy_cut(lines: list[Line[T]], column_gap: float, typical: float | None) -> list[Line[T]]:
    """The XY-cut with an explicit stack, not recursion: a tall page of evenly spaced rows is cut
    once per row, which overflowed Python's recursion limit at about 500 rows."""
    ordered: list[Line[T]] = []
    regions = [lines]
    while regions:
        region = regions.pop()
        if len(region) <= 1:
            ordered += region
            continue
        parts = _split_columns(region, column_gap, typical)
        if len(parts) == 1:
            parts = _split_widest_row_gap(region)
        if len(parts) == 1:
            ordered += _row_sorted(region)
        else:
            regions += reversed(parts)  # the first part is read first
    return ordered


def reading_order(lines: Sequence[Line[T]]) -> list[Line[T]]:
    """The lines in the order a person would read them."""
    if not lines:
        return []
    typical = median(line.height for line in lines)
    return _xy_cut(list(lines), 1.5 * typical, typical)


def boxes_in_order(boxes: Sequence[Line[T]], line_height: float) -> list[Line[T]]:
    """Whole blocks (boxes of many lines) in reading order: the XY-cut with every box narrowed by a
    quarter of the page's ``line_height`` on each side and any gap of a quarter line height a
    column gutter (line boxes grown by a detector can reach over a narrow gutter by a few pixels;
    a gap that runs past whole blocks is a gutter); rows are not linked across gutters (blocks are
    not rows)."""
    inset = 0.25 * line_height
    narrowed = [
        Line(min(b.x1 + inset, (b.x1 + b.x2) / 2), b.y1, max(b.x2 - inset, (b.x1 + b.x2) / 2), b.y2, b) for b in boxes
    ]
    return [line.item for line in _xy_cut(narrowed, inset, None)]


def _continues(prev: Line[T], line: Line[T], typical: float) -> bool:
    """Does ``line`` continue the paragraph that ``prev`` ends?"""
    if same_row(prev, line):
        return True
    below = line.y1 - prev.y2
    horizontal_overlap = min(prev.x2, line.x2) - max(prev.x1, line.x1)
    similar_height = 0.6 < line.height / prev.height < 1.6
    return -0.25 * typical <= below <= 0.8 * typical and horizontal_overlap > 0 and similar_height


def group_paragraphs(lines: Sequence[Line[T]]) -> list[list[Line[T]]]:
    """Lines in reading order, grouped into paragraphs."""
    ordered = reading_order(lines)
    if not ordered:
        return []
    typical = median(line.height for line in ordered)
    paragraphs: list[list[Line[T]]] = [[ordered[0]]]
    row = [ordered[0]]  # the paragraph's last row: a label and its amount far apart are one row
    for line in ordered[1:]:
        if same_row(row[-1], line):
            paragraphs[-1].append(line)
            row.append(line)
            continue
        extent = Line(min(x.x1 for x in row), row[-1].y1, max(x.x2 for x in row), row[-1].y2, row[-1].item)
        if _continues(extent, line, typical):
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
        row = [line]
    return paragraphs
