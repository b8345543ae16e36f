"""Reading order and paragraphs for text lines that come without layout (e.g. a line detector).

Order comes from an XY-cut: a region is first split into columns at vertical gutters
wide enough to be real column gaps; failing that, it is split in two at its widest horizontal gap;
a region that cannot be split is read top to bottom, left to right. Consecutive lines are then
joined into paragraphs when they sit close below each other in the same column.
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


def _split_columns(lines: list[Line[T]], min_gap: float) -> list[list[Line[T]]]:
    gaps = _gaps([(line.x1, line.x2) for line in lines], min_gap)
    if not gaps:
        return [lines]
    cuts = [(a + b) / 2 for a, b in gaps]
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


def _xy_cut(lines: list[Line[T]], column_gap: float) -> list[Line[T]]:
    """The XY-cut with an explicit stack, not recursion: a tall page of evenly spaced rows is cut
    once per row, which overflowed Python's recursion limit at about 500 rows."""
    ordered: list[Line[T]] = []
    regions = [lines]
    while regions:
        region = regions.pop()
        if len(region) <= 1:
            ordered += region
            continue
        parts = _split_columns(region, column_gap)
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
    return _xy_cut(list(lines), column_gap=1.5 * typical)


def same_row(a: Line[T], b: Line[T]) -> bool:
    overlap = min(a.y2, b.y2) - max(a.y1, b.y1)
    return overlap > 0.5 * min(a.height, b.height)


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
    for line in ordered[1:]:
        if _continues(paragraphs[-1][-1], line, typical):
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    return paragraphs
