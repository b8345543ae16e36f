"""The page image as the model is sent it: Qwen2-VL's "smart resize" (the rule its processor and
those of its descendants apply), so the image the model sees is the one the parser is told of."""

from __future__ import annotations

import math

from PIL import Image

from backends.vlm_backend.presets.base import ImageRules


def smart_size(width: int, height: int, rules: ImageRules) -> tuple[int, int]:
    """``(width, height)`` scaled first to ``rules.longest_side`` when set, then with both sides
    multiples of ``rules.factor`` (at least one factor), the aspect ratio kept as near as that
    allows, and the pixel count within the rules' bounds."""
    factor = rules.factor
    if rules.longest_side is not None:
        scale = rules.longest_side / max(width, height)
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
    w = max(factor, round(width / factor) * factor)
    h = max(factor, round(height / factor) * factor)
    if rules.max_pixels is not None and w * h > rules.max_pixels:
        scale = math.sqrt(width * height / rules.max_pixels)
        w = max(factor, math.floor(width / scale / factor) * factor)
        h = max(factor, math.floor(height / scale / factor) * factor)
    elif rules.min_pixels is not None and w * h < rules.min_pixels:
        scale = math.sqrt(rules.min_pixels / (width * height))
        w = math.ceil(width * scale / factor) * factor
        h = math.ceil(height * scale / factor) * factor
    return w, h


def prepare(image: Image.Image, rules: ImageRules) -> Image.Image:
    """``image`` in RGB at :func:`smart_size` (the same object when nothing changes)."""
    image = image if image.mode == "RGB" else image.convert("RGB")
    size = smart_size(image.width, image.height, rules)
    return image if size == image.size else image.resize(size, Image.Resampling.BICUBIC)
