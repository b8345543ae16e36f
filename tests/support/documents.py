"""Test documents made on the fly: text rendered into images and PDFs, decompression bombs."""

from __future__ import annotations

import io
import struct
import zlib

import pymupdf
from PIL import Image, ImageDraw, ImageFont


def text_image(
    lines: list[str],
    *,
    font_size: int = 40,
    width: int = 1600,
    margin: int = 60,
    line_gap: float = 1.9,
    fmt: str = "PNG",
) -> bytes:
    """White page with ``lines`` in black, one per row; blank strings leave an empty row.

    The default size is that of 10 pt text scanned at 300 dpi.
    """
    font = ImageFont.load_default(size=font_size)
    height = int(2 * margin + len(lines) * font_size * line_gap)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((margin, margin + row * font_size * line_gap), line, fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def text_pdf(pages: list[list[str]], *, font_size: int = 16) -> bytes:
    """A born-digital PDF, one page per entry, each line of text on its own row."""
    document = pymupdf.open()
    for lines in pages:
        page = document.new_page()
        for row, line in enumerate(lines):
            page.insert_text((72, 96 + row * font_size * 2), line, fontsize=font_size)
    data = document.tobytes()
    document.close()
    return data


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` white pixels, tiny on disk (a decompression bomb)."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def normalise(text: str) -> str:
    return " ".join(text.replace("\\", "").split())


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate after whitespace normalisation and markdown escapes removed."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    return levenshtein(ref, hyp) / max(len(ref), 1)
