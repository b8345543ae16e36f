"""olmOCR-2 (``allenai/olmOCR-2-7B-1025``, a Qwen2.5-VL fine-tune): markdown with YAML front matter.

Sources (allenai/olmocr, commit f7cfe4c22098b154c76b6ec950d1c0a464eecf8d):

- ``olmocr/prompts/prompts.py``, ``build_no_anchoring_v4_yaml_prompt``: the prompt, verbatim.
- ``olmocr/pipeline.py``: ``MAX_TOKENS = 8000``; temperature 0.1 on the first attempt
  (``TEMPERATURE_BY_ATTEMPT``); pages rendered with their longest side at 1288 pixels
  (``--target_longest_image_dim``); the front matter it must start with (its ``guided_regex``):
  ``primary_language``, ``is_rotation_valid``, ``rotation_correction`` (0/90/180/270),
  ``is_table``, ``is_diagram``.

The body is markdown with tables in HTML and math as ``\\( \\)`` / ``\\[ \\]`` (display math is
put in ``$$`` here). The front matter is read, not shown: a page the model finds rotated, or
front matter that is missing or malformed, gives a warning (the whole answer stays the backend's
raw output). olmOCR gives no boxes for text, so there are no text blocks (one block per paragraph
would need boxes it never writes, and a page-sized block would claim a layout it did not find);
figures it labels as ``![alt](page_x_y_width_height.png)`` become figure blocks, read as pixels of
the image it saw (the prompt defines no other unit; unverified on a GPU). No custom prompt: the
model is trained on this one.
"""

from __future__ import annotations

import re
from typing import Any

from backends.vlm_backend.presets._parsing import display_math, strip_fence
from backends.vlm_backend.presets.base import ImageRules, Mode, PageFrame, ParsedPage, Preset, Sampling, scale_box
from shared.api_contract import Block
from shared.layout import FIGURE

PROMPT = (
    "Attached is one page of a document that you must process. "
    "Just return the plain text representation of this document as if you were reading it naturally. "
    "Convert equations to LateX and tables to HTML.\n"
    "If there are any figures or charts, label them with the following markdown syntax "
    "![Alt text describing the contents of the figure](page_startx_starty_width_height.png)\n"
    "Return your output as markdown, with a front matter section on top specifying values for the "
    "primary_language, is_rotation_valid, rotation_correction, is_table, and is_diagram parameters."
)
FRONT_MATTER_KEYS = ("primary_language", "is_rotation_valid", "rotation_correction", "is_table", "is_diagram")

_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_FIGURE = re.compile(r"!\[([^\]]*)\]\(page_(-?[\d.]+)_(-?[\d.]+)_([\d.]+)_([\d.]+)\.png\)")


def _value(text: str) -> Any:
    """A front matter value: booleans, integers and null read as such, anything else as text."""
    text = text.strip().strip("'\"")
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none", "~", ""):
        return None
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def front_matter(answer: str) -> tuple[dict[str, Any] | None, str]:
    """The front matter's fields (``None`` without one) and the body after it."""
    text = strip_fence(answer)
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None, text
    fields: dict[str, Any] = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            fields[key.strip()] = _value(value)
    return fields, text[match.end() :]


def _front_matter_warnings(fields: dict[str, Any] | None) -> list[str]:
    if fields is None:
        return ["no front matter (primary_language, rotation...): body read as it is"]
    warnings = [f"front matter lacks {key}" for key in FRONT_MATTER_KEYS if key not in fields]
    rotation = fields.get("rotation_correction")
    if rotation not in (None, 0, 90, 180, 270):
        warnings.append(f"front matter rotation_correction {rotation!r} is not 0, 90, 180 or 270")
    if fields.get("is_rotation_valid") is False:
        warnings.append(f"the model finds the page rotated: turn it by {rotation!r} degrees and read it again")
    return warnings


def _figures(body: str, frame: PageFrame, warnings: list[str]) -> list[Block]:
    blocks = []
    for match in _FIGURE.finditer(body):
        try:
            x, y, width, height = (float(v) for v in match.group(2, 3, 4, 5))
        except ValueError:
            x = y = width = height = float("nan")
        box = scale_box([x, y, x + width, y + height], frame.sent_width, frame.sent_height, frame)
        if box is None:
            warnings.append(f"figure with an unreadable place dropped from the blocks: {match.group(0)[:60]!r}")
            continue
        blocks.append(Block(type=FIGURE, bbox=box, text=match.group(1).strip()))
    return blocks


def parse(answer: str, frame: PageFrame) -> ParsedPage:
    """The body as markdown (display math in ``$$``), figure blocks from its figure labels; the
    front matter checked into warnings."""
    fields, body = front_matter(answer)
    warnings = _front_matter_warnings(fields)
    blocks = _figures(body, frame, warnings)
    return ParsedPage(markdown=display_math(body).strip(), blocks=blocks, warnings=warnings)


PRESET = Preset(
    name="olmocr-2",
    description="olmOCR-2 (Qwen2.5-VL fine-tune); prompt and settings from allenai/olmocr (prompts.py, pipeline.py).",
    modes={"page": Mode(prompt=PROMPT, description="The page as markdown with front matter (olmOCR's v4 prompt).")},
    default_mode="page",
    parse=parse,
    sampling=Sampling(temperature=0.1, max_tokens=8000),
    image=ImageRules(longest_side=1288, factor=28),
    custom_prompt=False,
)
