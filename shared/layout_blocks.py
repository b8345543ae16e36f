"""A page's text lines and layout regions (``shared.layout``) made into blocks in reading order.

Each line goes to the region that holds most of it; a region's block is then the box of its own
lines (the model's boxes are coarse). Lines in no region become text blocks, one per paragraph.
Side-by-side text blocks whose lines pair up row by row are one block (a receipt's labels and
amounts). Blocks are read with the XY-cut over their boxes, headers first and footers last, each
caption next to the figure or table it belongs to; lines inside a block are read with the line
XY-cut (a block the model drew over two columns still reads column by column), table cells row by
row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Generic, TypeVar

from shared.layout import CAPTION, FIGURE, FOOTER, HEADER, PRECEDENCE, TABLE, TEXT, Region
from shared.reading_order import Line, boxes_in_order, group_paragraphs, row_linked
from shared.table import Table, cluster_table

T = TypeVar("T")

#: A line belongs to a region holding at least this share of its box (or of the region's).
INSIDE = 0.5


@dataclass
class LayoutBlock(Generic[T]):
    """A block of the page: its type, its lines as paragraphs in reading order, a table's cells."""

    type: str
    paragraphs: list[list[Line[T]]]
    score: float | None = None
    table: Table[T] | None = None
    #: The region's own box, for a block without lines (a figure).
    region_box: tuple[float, float, float, float] | None = None
    lines: list[Line[T]] = field(init=False)

    def __post_init__(self) -> None:
        self.lines = self.table.boxes() if self.table else [line for p in self.paragraphs for line in p]

    @property
    def box(self) -> tuple[float, float, float, float]:
        if not self.lines:
            assert self.region_box is not None
            return self.region_box
        return (
            min(line.x1 for line in self.lines),
            min(line.y1 for line in self.lines),
            max(line.x2 for line in self.lines),
            max(line.y2 for line in self.lines),
        )


def _region_of(line: Line[T], regions: Sequence[Region]) -> int | None:
    """The region holding most of the line: the share is of the smaller of the two, since the
    model's box of a one-line region (a page number) is often smaller than the line itself."""
    area = max(line.x2 - line.x1, 1.0) * line.height
    best: tuple[float, int, int] | None = None
    for index, region in enumerate(regions):
        share = region.overlap(line.x1, line.y1, line.x2, line.y2) / max(min(area, region.area), 1.0)
        if share >= INSIDE:
            key = (round(share, 1), PRECEDENCE.get(region.type, 0), -index)
            best = key if best is None or key > best else best
    return None if best is None else -best[2]


#: Splits a line into the boxes of its words, for table cells (a line may run across cells).
Splitter = Callable[[Line[T]], list[Line[T]]]


def make_block(
    kind: str, lines: list[Line[T]], score: float | None, split: Splitter[T] | None = None
) -> LayoutBlock[T]:
    """A block of ``kind`` from its lines: paragraphs in reading order, or a table's cells."""
    if kind == TABLE:
        table = cluster_table([word for line in lines for word in split(line)] if split else lines)
        if table.columns > 1:
            return LayoutBlock(TABLE, [], score, table)
        kind = TEXT  # one column: the model saw a table where there is a list of lines
    return LayoutBlock(kind, group_paragraphs(lines), score)


def _neighbours(a: LayoutBlock[T], b: LayoutBlock[T], blocks: Sequence[LayoutBlock[T]]) -> bool:
    """Whether ``b`` is right of ``a``, sharing rows, with no other block between them anywhere
    from the top of the two to the bottom (in a third column's paragraph break, the first and the
    third column are no neighbours)."""
    if a.box[2] > b.box[0] or max(a.box[1], b.box[1]) >= min(a.box[3], b.box[3]):
        return False
    top, bottom = min(a.box[1], b.box[1]), max(a.box[3], b.box[3])
    return not any(
        c.box[0] < b.box[0] and c.box[2] > a.box[2] and c.box[1] < bottom and c.box[3] > top
        for c in blocks
        if c is not a and c is not b
    )


def merge_row_linked(blocks: list[LayoutBlock[T]], typical: float) -> list[LayoutBlock[T]]:
    """Neighbouring text blocks side by side whose lines are the halves of rows become one block,
    where the first of the two was."""
    merged = True
    while merged:
        merged = False
        texts = [b for b in blocks if b.type == TEXT and b.lines]
        for a, b in ((a, b) for a in texts for b in texts if a is not b and _neighbours(a, b, blocks)):
            # One pair of lines is no evidence (a paragraph's short last line beside a column).
            if min(len(a.lines), len(b.lines)) >= 2 and row_linked(a.lines, b.lines, typical):
                position = min(blocks.index(a), blocks.index(b))
                blocks = [x for x in blocks if x is not a and x is not b]
                blocks.insert(position, make_block(TEXT, a.lines + b.lines, a.score))
                merged = True
                break
    return blocks


def _with_captions(ordered: list[LayoutBlock[T]]) -> list[LayoutBlock[T]]:
    """Each caption moved next to the nearest figure or table it overlaps horizontally: before it
    when above it, after it when below."""
    targets = [b for b in ordered if b.type in (FIGURE, TABLE)]
    result = [b for b in ordered if b.type != CAPTION or not targets]
    for caption in (b for b in ordered if b.type == CAPTION and targets):
        cx1, cy1, cx2, cy2 = caption.box
        near = [t for t in targets if min(cx2, t.box[2]) > max(cx1, t.box[0])]
        if not near:
            result.insert(min(ordered.index(caption), len(result)), caption)
            continue
        target = min(near, key=lambda t: min(abs(t.box[1] - cy2), abs(cy1 - t.box[3])))
        position = result.index(target)
        result.insert(position if cy2 <= (target.box[1] + target.box[3]) / 2 else position + 1, caption)
    return result


def page_blocks(
    lines: Sequence[Line[T]], regions: Sequence[Region], split: Splitter[T] | None = None
) -> list[LayoutBlock[T]]:
    """The page's blocks in reading order (see the module docstring); ``split`` gives table cells
    the words of lines that have them."""
    if not lines and not regions:
        return []
    typical = median(line.height for line in lines) if lines else 1.0
    by_region: dict[int, list[Line[T]]] = {}
    loose: list[Line[T]] = []
    # A line just outside a text region's coarse box (a paragraph's short last line) is still its.
    grown = [
        Region(r.type, r.x1, r.y1 - typical, r.x2, r.y2 + typical, r.score) if r.type == TEXT else r for r in regions
    ]
    for line in lines:
        index = _region_of(line, regions)
        index = _region_of(line, grown) if index is None else index
        (loose if index is None else by_region.setdefault(index, [])).append(line)
    blocks: list[LayoutBlock[T]] = []
    for index, region in enumerate(regions):
        if index in by_region and region.type == TEXT:
            # One block per paragraph: a region the model drew over two columns must not hide the
            # gutter between them when the blocks are ordered.
            blocks += [LayoutBlock(TEXT, [p], region.score) for p in group_paragraphs(by_region[index])]
        elif index in by_region:
            blocks.append(make_block(region.type, by_region[index], region.score, split))
        elif region.type == FIGURE:
            blocks.append(
                LayoutBlock(FIGURE, [], region.score, region_box=(region.x1, region.y1, region.x2, region.y2))
            )
    blocks += [LayoutBlock(TEXT, [paragraph]) for paragraph in group_paragraphs(loose)]
    blocks = merge_row_linked(blocks, typical)
    body = [Line(*b.box, b) for b in blocks if b.type not in (HEADER, FOOTER)]
    return framed([line.item for line in boxes_in_order(body, typical)], blocks)


def framed(ordered: list[LayoutBlock[T]], blocks: Sequence[LayoutBlock[T]]) -> list[LayoutBlock[T]]:
    """Headers (top to bottom) before the ``ordered`` body, footers after it, captions beside
    their figure or table."""
    headers = sorted((b for b in blocks if b.type == HEADER), key=lambda b: b.box[1])
    footers = sorted((b for b in blocks if b.type == FOOTER), key=lambda b: b.box[1])
    return headers + _with_captions([b for b in ordered if b.type not in (HEADER, FOOTER)]) + footers
