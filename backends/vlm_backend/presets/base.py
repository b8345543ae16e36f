"""What a preset is: one model family's prompts, sampling, image rules and output parser.

A preset is data plus one parser function, in one small module under this package; the module
defines ``PRESET``. The backend (``backends/vlm_backend``) sends the page, the preset turns the
model's answer into the contract's markdown and blocks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.api_contract import BBox, Block


@dataclass(frozen=True)
class Mode:
    """One way of asking the model: a prompt and what it is for (shown to users)."""

    prompt: str
    description: str
    #: A system message sent before the prompt, where the model card's format needs one.
    system: str | None = None


@dataclass(frozen=True)
class Sampling:
    """Sampling settings sent with every request, as the model card asks for them."""

    temperature: float = 0.0
    max_tokens: int = 8192
    top_p: float | None = None
    #: A repetition guard where the model card asks for one (``None``: none sent).
    repetition_penalty: float | None = None
    #: Further fields of vLLM's chat request (``skip_special_tokens``...), sent as they are.
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageRules:
    """How the page image is sized before it is sent (``None``: no bound). Sides become multiples of
    ``factor`` (the vision encoder's patch merge: 28 for Qwen2-VL-based models)."""

    min_pixels: int | None = None
    max_pixels: int | None = None
    factor: int = 28
    #: The page scaled first so that its longest side has this many pixels (olmOCR renders at 1288).
    longest_side: int | None = None


@dataclass(frozen=True)
class PageFrame:
    """The page as the parser must know it: boxes come back in the page's own pixels
    (``width`` × ``height``), whatever grid the model answered on; ``sent_width`` × ``sent_height``
    is the image the model saw (after :class:`ImageRules`)."""

    width: int
    height: int
    sent_width: int
    sent_height: int
    mode: str


@dataclass
class ParsedPage:
    """A model answer read into the contract: markdown (tables as HTML, equations as LaTeX in
    ``$$``), blocks with boxes in page pixels (types from ``shared.layout.BLOCK_TYPES``), and what
    was repaired or dropped. Figure blocks are cropped from the page by the backend."""

    markdown: str
    blocks: list[Block] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def scale_box(box: Any, grid_width: float, grid_height: float, frame: PageFrame) -> BBox | None:
    """``[x1, y1, x2, y2]`` on a ``grid_width`` × ``grid_height`` grid (the sent image's pixels, a
    0-1000 grid...) to the page's pixels, clamped to the page; ``None`` when it is not four
    numbers or encloses nothing. Shared by every parser, so each reads boxes the same way."""
    if not isinstance(box, list | tuple) or len(box) != 4:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in box):
        return None
    x_scale, y_scale = frame.width / grid_width, frame.height / grid_height
    x1, x2 = sorted(
        (min(max(float(box[0]) * x_scale, 0.0), frame.width), min(max(float(box[2]) * x_scale, 0.0), frame.width))
    )
    y1, y2 = sorted(
        (min(max(float(box[1]) * y_scale, 0.0), frame.height), min(max(float(box[3]) * y_scale, 0.0), frame.height))
    )
    if x2 - x1 <= 0 or y2 - y1 <= 0:
        return None
    return (x1, y1, x2, y2)


#: Reads one answer. Never raises on what a model writes: malformed parts are dropped with a warning.
Parser = Callable[[str, PageFrame], ParsedPage]


@dataclass(frozen=True)
class Preset:
    name: str
    #: The family and where its prompts and settings come from (model card, repository).
    description: str
    modes: Mapping[str, Mode]
    default_mode: str
    parse: Parser
    sampling: Sampling = Sampling()
    image: ImageRules = ImageRules()
    #: Whether a user's own ``prompt`` is accepted (parsed as markdown when it is).
    custom_prompt: bool = True

    def __post_init__(self) -> None:
        if self.default_mode not in self.modes:
            raise ValueError(f"preset {self.name}: default mode {self.default_mode!r} is not one of its modes")
