"""The ``boxes_image``: the page with every block's box drawn on it, as a data URI."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from shared.api_contract import Block
from shared.data_uri import image_data_uri

# One colour per block type; anything else gets the fallback. Chosen to stay apart on paper white.
TYPE_COLOURS: dict[str, tuple[int, int, int]] = {
    "text": (220, 40, 40),
    "title": (40, 90, 220),
    "table": (20, 150, 60),
    "figure": (200, 120, 0),
    "image": (200, 120, 0),
    "formula": (150, 40, 200),
    "equation": (150, 40, 200),
    "caption": (0, 150, 160),
    "word": (220, 40, 40),
    # DeepSeek-OCR's layout labels
    "sub_title": (90, 130, 240),
    "image_caption": (0, 150, 160),
    "table_caption": (0, 150, 160),
    "table_footnote": (100, 100, 160),
    "match": (230, 0, 140),
}
FALLBACK_COLOUR = (120, 120, 120)


def draw_boxes(
    image: Image.Image, blocks: Sequence[Block], *, max_side: int = 1600, quality: int = 80, labels: bool = False
) -> str:
    """Draw the blocks on a copy of ``image`` scaled to at most ``max_side`` pixels; return a JPEG data URI.

    With ``labels`` each box carries its block type in a small tag above its top-left corner.
    """
    scale = min(1.0, max_side / max(image.size))
    canvas = image.convert("RGB")
    if scale < 1.0:
        canvas = canvas.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    else:
        canvas = canvas.copy()
    draw = ImageDraw.Draw(canvas)
    width = max(1, round(2 * max(canvas.size) / 1000))
    font = ImageFont.load_default(size=max(10, round(max(canvas.size) / 90))) if labels else None
    for block in blocks:
        colour = TYPE_COLOURS.get(block.type, FALLBACK_COLOUR)
        if block.polygon:
            points = [(x * scale, y * scale) for x, y in block.polygon]
            draw.line(points + points[:1], fill=colour, width=width)
        else:
            x1, y1, x2, y2 = (v * scale for v in block.bbox)
            draw.rectangle((x1, y1, x2, y2), outline=colour, width=width)
        if font is not None:
            left, top = block.bbox[0] * scale, block.bbox[1] * scale
            tag = draw.textbbox((left, top), block.type, font=font, anchor="ld")
            draw.rectangle(tag, fill=colour)
            draw.text((left, top), block.type, fill=(255, 255, 255), font=font, anchor="ld")
    return image_data_uri(canvas, quality=quality)
