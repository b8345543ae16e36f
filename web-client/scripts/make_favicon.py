"""Writes web-client/public/favicon.ico: a page with lines of text on the accent blue, at 16, 32 and
48 px. Run once when the icon changes (``python3 web-client/scripts/make_favicon.py``); the file is
committed, so a build needs no Python."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

BLUE = (37, 99, 235, 255)
PAPER = (255, 255, 255, 255)
INK = (30, 41, 59, 255)


def icon(size: int = 256) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    unit = size / 16
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=3 * unit, fill=BLUE)
    draw.rectangle((3.5 * unit, 2.5 * unit, 12.5 * unit, 13.5 * unit), fill=PAPER)
    for row, length in enumerate((7, 5, 7, 4)):
        top = (4.5 + 2.3 * row) * unit
        draw.rectangle((5 * unit, top, (5 + length * 0.86) * unit, top + 1.1 * unit), fill=INK)
    return image


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "public" / "favicon.ico"
    icon().save(target, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    print(target, target.stat().st_size, "bytes")
