"""Finds and trims repetition loops: the same unit (a block, a line) or run of units repeated
over and over, which DeepSeek-OCR falls into on some pages until it hits its token cap."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Loop:
    start: int  # index of the first unit of the first copy
    period: int  # units per copy
    repeats: int  # copies in a row, the first one included


def find_loop(keys: Sequence[Hashable], *, min_repeats: int, max_period: int, start: int = 0) -> Loop | None:
    """The first run from ``start`` on where ``period`` units repeat at least ``min_repeats`` times.

    A run made only of empty keys (blank lines) is not a loop.
    """
    n = len(keys)
    for first in range(start, n):
        for period in range(1, max_period + 1):
            if first + period * min_repeats > n:
                break
            unit = keys[first : first + period]
            if not any(unit):
                continue
            repeats = 1
            while keys[first + repeats * period : first + (repeats + 1) * period] == unit:
                repeats += 1
            if repeats >= min_repeats:
                return Loop(first, period, repeats)
    return None


def trim_loops(
    items: Sequence[T], key: Callable[[T], Hashable], *, min_repeats: int, max_period: int
) -> tuple[list[T], list[Loop]]:
    """Keep one copy of every loop; return the kept items and the loops found."""
    keys = [key(item) for item in items]
    kept: list[T] = []
    loops: list[Loop] = []
    position = 0
    while (loop := find_loop(keys, min_repeats=min_repeats, max_period=max_period, start=position)) is not None:
        kept.extend(items[position : loop.start + loop.period])
        loops.append(loop)
        position = loop.start + loop.period * loop.repeats
    kept.extend(items[position:])
    return kept, loops
