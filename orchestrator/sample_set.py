"""The bundled sample labelled set: four pages of different kinds rendered here with their own text
(a letter, a receipt with amounts, a table, a two-column page), each with its ground truth and a
``labels.csv``. Made by the project, nothing third-party; deterministic, so it renders the same
everywhere. ``POST /evaluations`` with ``sample=true`` evaluates it; ``GET /evaluations/sample`` is
it as a zip; ``python -m orchestrator.sample_set DIR`` writes it to a folder (``make run`` does, to
``data/sample-set``)."""

from __future__ import annotations

import io
import sys
import zipfile
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_SIZE = 36
LINE_GAP = 1.8
MARGIN = 90
WIDTH = 1700

LETTER = [
    "Northfield Garden Supplies",
    "12 Orchard Lane, Millbrook",
    "",
    "Dear Ms Alvarez,",
    "",
    "Thank you for your order of spring bulbs.",
    "The tulips and daffodils will be sent on",
    "Monday, and the compost follows a week later.",
    "Please keep this letter with your invoice.",
    "",
    "Kind regards,",
    "Thomas Weber",
]
RECEIPT = [
    ("CORNER BAKERY", None),
    ("Receipt 2024-0385", None),
    ("", None),
    ("Sourdough loaf", "4.20"),
    ("Rye rolls x6", "3.60"),
    ("Apple tart", "12.50"),
    ("Coffee beans 500g", "9.90"),
    ("", None),
    ("Subtotal", "30.20"),
    ("VAT 7%", "2.11"),
    ("TOTAL", "32.31"),
]
TABLE = [
    ("Region", "Units", "Revenue"),
    ("North", "1250", "18400"),
    ("South", "980", "14150"),
    ("East", "1430", "21030"),
    ("West", "760", "11200"),
]
LEFT_COLUMN = [
    "Rivers shape the land over thousands",
    "of years. Water carries sand and small",
    "stones down to the sea, where they",
    "settle and build wide, flat deltas.",
    "Farmers have used this rich ground",
    "for growing rice and wheat for ages.",
]
RIGHT_COLUMN = [
    "Forests hold the soil in place with",
    "their roots. Where the trees are cut,",
    "heavy rain washes the earth away and",
    "the rivers turn brown with mud. New",
    "planting on steep slopes slows this",
    "loss within a few years of growth.",
]
#: The gap between the two columns, in pixels (about two line heights).
GUTTER = 70


def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=FONT_SIZE)


def _page(rows: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (WIDTH, int(2 * MARGIN + rows * FONT_SIZE * LINE_GAP)), "white")
    return image, ImageDraw.Draw(image)


def _y(row: int) -> float:
    return MARGIN + row * FONT_SIZE * LINE_GAP


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def letter() -> tuple[bytes, str]:
    image, draw = _page(len(LETTER))
    for row, line in enumerate(LETTER):
        draw.text((MARGIN, _y(row)), line, fill="black", font=_font())
    return _png(image), "\n".join(LETTER) + "\n"


def receipt() -> tuple[bytes, str]:
    image, draw = _page(len(RECEIPT))
    font = _font()
    for row, (label, amount) in enumerate(RECEIPT):
        draw.text((MARGIN, _y(row)), label, fill="black", font=font)
        if amount:
            draw.text((WIDTH - MARGIN - draw.textlength(amount, font=font), _y(row)), amount, fill="black", font=font)
    truth = [f"{label} {amount}" if amount else label for label, amount in RECEIPT]
    return _png(image), "\n".join(truth) + "\n"


def table() -> tuple[bytes, str]:
    image, draw = _page(len(TABLE) * 2)
    font = _font()
    columns = (MARGIN, MARGIN + 500, MARGIN + 950)
    for row, cells in enumerate(TABLE):
        y = _y(row * 2)
        for x, cell in zip(columns, cells, strict=True):
            draw.text((x, y), cell, fill="black", font=font)
        line_y = y + FONT_SIZE * 1.4
        draw.line((MARGIN - 10, line_y, MARGIN + 1300, line_y), fill="black", width=2)
    return _png(image), "\n".join(" ".join(cells) for cells in TABLE) + "\n"


def two_columns() -> tuple[bytes, str]:
    image, draw = _page(len(LEFT_COLUMN))
    font = _font()
    right_x = MARGIN + max(draw.textlength(line, font=font) for line in LEFT_COLUMN) + GUTTER
    for row, (left, right) in enumerate(zip(LEFT_COLUMN, RIGHT_COLUMN, strict=True)):
        draw.text((MARGIN, _y(row)), left, fill="black", font=font)
        draw.text((right_x, _y(row)), right, fill="black", font=font)
    return _png(image), "\n".join(LEFT_COLUMN) + "\n\n" + "\n".join(RIGHT_COLUMN) + "\n"


#: name → (kind, renderer)
PAGES = {
    "letter": ("letter", letter),
    "receipt": ("receipt", receipt),
    "table": ("table", table),
    "two-columns": ("two-column", two_columns),
}


@lru_cache(maxsize=1)
def sample_files() -> tuple[tuple[str, bytes], ...]:
    """The set's files: ``name.png``, ``name.txt`` per page and ``labels.csv``."""
    files: list[tuple[str, bytes]] = []
    labels = ["name,kind"]
    for name, (kind, render) in PAGES.items():
        image, truth = render()
        files += [(f"{name}.png", image), (f"{name}.txt", truth.encode("utf-8"))]
        labels.append(f"{name},{kind}")
    files.append(("labels.csv", ("\n".join(labels) + "\n").encode("utf-8")))
    return tuple(files)


@lru_cache(maxsize=1)
def sample_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sample_files():
            info = zipfile.ZipInfo(f"sample-set/{name}", date_time=(2024, 1, 1, 0, 0, 0))
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def write(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in sample_files():
        (folder / name).write_bytes(data)


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "data/sample-set"))
