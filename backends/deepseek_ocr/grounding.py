"""Reads DeepSeek-OCR's raw answer: ``<|ref|>label<|/ref|><|det|>[[x1, y1, x2, y2], ...]<|/det|>``
tags, each followed by the block's content, with boxes on a 0-999 grid of the page.

Boxes are read with ``json.loads`` and checked number by number: never ``eval`` (the official
scripts do, which made apps that copied them open to code execution from a crafted page).
Nothing in the answer can make this raise: anything malformed is dropped or repaired with a warning.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

GRID = 999  # coordinates run from 0 to 999 on each axis, whatever the page's aspect ratio
EOS_TOKEN = "<｜end▁of▁sentence｜>"
_NOT_A_TAG = r"(?:(?!<\|).)*?"  # anything up to the next special token
TAG = re.compile(rf"<\|ref\|>({_NOT_A_TAG})<\|/ref\|>\s*<\|det\|>({_NOT_A_TAG})<\|/det\|>", re.DOTALL)
# What is left of a tag that is broken or cut off (the answer can end in the middle of one).
FRAGMENT = re.compile(
    rf"<\|ref\|>{_NOT_A_TAG}(?:<\|/ref\|>|$)(?:\s*<\|det\|>{_NOT_A_TAG}(?:<\|/det\|>|$))?"
    rf"|<\|det\|>{_NOT_A_TAG}(?:<\|/det\|>|$)"
    r"|<\|/?(?:ref|det|grounding)\|>",
    re.DOTALL,
)

GridBox = tuple[int, int, int, int]


@dataclass
class TaggedBlock:
    """One tag and the content that follows it, boxes already checked and on the 0-999 grid."""

    label: str
    boxes: list[GridBox]
    content: str


@dataclass
class GroundedOutput:
    #: Text before the first tag: all of it for prompts without grounding (``Free OCR.``).
    preamble: str
    blocks: list[TaggedBlock]
    warnings: list[str] = field(default_factory=list)
    eos_seen: bool = False


class BoxSyntaxError(ValueError):
    """The text between ``<|det|>`` and ``<|/det|>`` is not a list of four-number boxes."""


def read_boxes(text: str) -> list[list[float]]:
    """``"[[1, 2, 3, 4], [5, 6, 7, 8]]"`` (or one flat box) → numbers, or :class:`BoxSyntaxError`."""
    try:
        value = json.loads(text)
    except ValueError:
        raise BoxSyntaxError(f"not a box list: {text[:60]!r}") from None
    if isinstance(value, list) and len(value) == 4 and all(_is_number(v) for v in value):
        value = [value]
    if not isinstance(value, list) or not value:
        raise BoxSyntaxError(f"not a box list: {text[:60]!r}")
    boxes: list[list[float]] = []
    for box in value:
        if not (isinstance(box, list) and len(box) == 4 and all(_is_number(v) for v in box)):
            raise BoxSyntaxError(f"a box is not four numbers: {str(box)[:60]!r}")
        boxes.append([float(v) for v in box])
    return boxes


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def fit_to_grid(box: list[float]) -> tuple[GridBox | None, str | None]:
    """Clamp a box into the grid and put its corners in order; ``None`` when nothing of it is left."""
    clamped = [min(max(v, 0.0), float(GRID)) for v in box]
    note = "coordinates outside 0-999 were clamped" if clamped != box else None
    x1, x2 = sorted((clamped[0], clamped[2]))
    y1, y2 = sorted((clamped[1], clamped[3]))
    if (x1, y1, x2, y2) != tuple(clamped):
        note = "box corners were swapped into order"
    if x2 - x1 < 1 or y2 - y1 < 1:
        return None, "an empty box was dropped"
    return (round(x1), round(y1), round(x2), round(y2)), note


def strip_fragments(text: str) -> tuple[str, int]:
    """Remove broken tag pieces; return the text and how many were removed."""
    return FRAGMENT.subn("", text)


def parse_grounded(raw: str) -> GroundedOutput:
    text = raw
    eos_seen = EOS_TOKEN in text
    if eos_seen:
        text = text.split(EOS_TOKEN, 1)[0]
    warnings: list[str] = []
    fragments = 0
    matches = list(TAG.finditer(text))
    preamble_end = matches[0].start() if matches else len(text)
    preamble, removed = strip_fragments(text[:preamble_end])
    fragments += removed
    blocks: list[TaggedBlock] = []
    for number, match in enumerate(matches, start=1):
        end = matches[number].start() if number < len(matches) else len(text)
        content = text[match.end() : end]
        if content.startswith("\n"):
            content = content[1:]
        content, removed = strip_fragments(content)
        fragments += removed
        label = match.group(1).strip()
        boxes: list[GridBox] = []
        try:
            numbers = read_boxes(match.group(2))
        except BoxSyntaxError as exc:
            warnings.append(f"block {number} ({label!r}): unreadable boxes, kept its text without a box: {exc}")
            numbers = []
        for box in numbers:
            fitted, note = fit_to_grid(box)
            if note:
                warnings.append(f"block {number} ({label!r}): {note}")
            if fitted is not None:
                boxes.append(fitted)
        blocks.append(TaggedBlock(label=label, boxes=boxes, content=content))
    if fragments:
        warnings.append(f"{fragments} malformed grounding tag(s) removed")
    return GroundedOutput(preamble=preamble, blocks=blocks, warnings=warnings, eos_seen=eos_seen)


def grid_to_pixels(box: GridBox, width: int, height: int) -> tuple[int, int, int, int]:
    """Scale a 0-999 grid box to the page's pixels (each axis on its own, as the model was trained)."""
    x1, y1, x2, y2 = box
    return (int(x1 / GRID * width), int(y1 / GRID * height), int(x2 / GRID * width), int(y2 / GRID * height))
