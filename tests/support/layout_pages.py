"""Rendered pages of known text, one per layout kind: columns, tables, a receipt, a form, a slide, a scan.

Every page is made at run time from a seed (nothing is stored) and comes with its true text in
reading order: blocks top to bottom and column by column, table cells row by row, a receipt's or a
form's label and value on one line. The accuracy benchmark (``bench/accuracy.py``) and the layout
integration tests read the same pages.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")

_VOCABULARY = (
    "the of and to in is that for it as with was on be by this are from at or an have not which "
    "they their been has more one all would there when will can its only other new some could time "
    "these two may then first any like now such our over also after year most made between many "
    "market report growth sales customer service quarter revenue board meeting results product "
    "team policy review budget cost price order delivery contract supply region office staff plan "
    "data system network energy water city school health research study model value change level "
    "public house river north south early local general total annual average project measure"
)
WORDS = tuple(_VOCABULARY.split())


@dataclass(frozen=True)
class Page:
    """A rendered page: its layout ``kind``, the image, its true text (one line per row, blank lines
    between blocks) and, for table pages, the table's rows of cells."""

    kind: str
    image: Image.Image
    truth: str
    table: list[list[str]] = field(default_factory=list)


class Fonts:
    """Pillow's bundled font (always there) or, with ``face``, a DejaVu face when installed."""

    def __init__(self, face: str | None = None) -> None:
        self.face = face if face and (DEJAVU / f"{face}.ttf").is_file() else None

    def get(self, size: int, *, bold: bool = False) -> Font:
        if self.face is None:
            return ImageFont.load_default(size=size)
        bold_face = DEJAVU / f"{self.face.split('-')[0]}-Bold.ttf"
        path = bold_face if bold and bold_face.is_file() else DEJAVU / f"{self.face}.ttf"
        return ImageFont.truetype(str(path), size)


def sentence(rng: random.Random, words: int) -> str:
    chosen = [rng.choice(WORDS) for _ in range(words)]
    if rng.random() < 0.3:
        chosen.insert(rng.randrange(1, len(chosen)), str(rng.randint(2, 2024)))
    return " ".join(chosen).capitalize() + "."


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng, rng.randint(7, 14)) for _ in range(sentences))


def wrap(text: str, font: Font, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and font.getlength(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return lines + [current] if current else lines


class Sheet:
    """A white page that records what it draws as the page's true text."""

    def __init__(self, width: int, height: int) -> None:
        self.image = Image.new("RGB", (width, height), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.blocks: list[list[str]] = []

    def text(self, x: float, y: float, text: str, font: Font) -> None:
        self.draw.text((x, y), text, fill="black", font=font)

    def lines(self, x: float, y: float, lines: list[str], font: Font, gap: float = 1.45) -> float:
        """Lines as one block from (x, y); returns the y below them."""
        size = font.size if isinstance(font, ImageFont.FreeTypeFont) else 12
        for row, line in enumerate(lines):
            self.text(x, y + row * size * gap, line, font)
        self.blocks.append(lines)
        return y + len(lines) * size * gap

    def truth(self) -> str:
        return "\n\n".join("\n".join(block) for block in self.blocks)


def columns_page(columns: int, seed: int, fonts: Fonts) -> Page:
    """A report page: a running header, a title across the page, ``columns`` columns of paragraphs
    (each column read to its end before the next), a page number in the footer; the gutter's width
    depends on the seed."""
    rng = random.Random(seed)
    # Gutters from tight (1.6 em: line boxes grown by a detector nearly close it) to wide (2.7 em).
    width, height, margin, gutter = 1654, 2200, 110, 45 + 15 * (seed % 3)
    body, small = fonts.get(28), fonts.get(24)
    sheet = Sheet(width, height)
    sheet.lines(margin, 50, [f"Annual review {2000 + seed % 25} - internal"], small)
    sheet.lines(margin, 150, [" ".join(rng.choice(WORDS) for _ in range(4)).title()], fonts.get(54, bold=True))
    column_width = (width - 2 * margin - (columns - 1) * gutter) / columns
    for column in range(columns):
        x, y = margin + column * (column_width + gutter), 290.0
        while y < height - 360:
            lines = wrap(paragraph(rng, rng.randint(2, 4)), body, column_width)
            lines = lines[: max(1, int((height - 300 - y) / (28 * 1.45)))]
            y = sheet.lines(x, y, lines, body) + 36
    sheet.lines(width / 2 - 40, height - 110, [f"Page {seed % 40 + 2}"], small)
    return Page(f"columns_{columns}", sheet.image, sheet.truth())


def table_rows(rng: random.Random, rows: int) -> list[list[str]]:
    regions = ["North", "South", "East", "West", "Central"]
    header = ["Item", "Region", "Qty", "Unit price", "Amount"]
    body = []
    for _ in range(rows):
        quantity, price = rng.randint(1, 90), rng.randint(100, 9999) / 100
        item = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)}"
        body.append([item, rng.choice(regions), str(quantity), f"{price:.2f}", f"{quantity * price:,.2f}"])
    return [header, *body]


def table_page(ruled: bool, seed: int, fonts: Fonts) -> Page:
    """A heading, a sentence, a five-column table (grid lines or none), a sentence after it."""
    rng = random.Random(seed)
    width, height, margin = 1654, 1500, 120
    body = fonts.get(28)
    sheet = Sheet(width, height)
    sheet.lines(margin, 80, [f"Orders by region, quarter {seed % 4 + 1}"], fonts.get(44, bold=True))
    y = sheet.lines(margin, 170, wrap(paragraph(rng, 2), body, width - 2 * margin), body) + 50
    rows = table_rows(rng, 8)
    edges = [margin, margin + 420, margin + 700, margin + 880, margin + 1140, width - margin]
    row_height = 62
    for index, row in enumerate(rows):
        top = y + index * row_height
        for column, cell in enumerate(row):
            font = fonts.get(28, bold=index == 0)
            # Text left-aligned, numbers right-aligned, as tables print them.
            x = edges[column] + 16 if column < 2 else edges[column + 1] - 16 - font.getlength(cell)
            sheet.text(x, top + 14, cell, font)
    bottom = y + len(rows) * row_height
    if ruled:
        for index in range(len(rows) + 1):
            sheet.draw.line([(edges[0], y + index * row_height), (edges[-1], y + index * row_height)], "black", 2)
        for edge in edges:
            sheet.draw.line([(edge, y), (edge, bottom)], "black", 2)
    else:
        sheet.draw.line([(edges[0], y + row_height), (edges[-1], y + row_height)], "black", 2)
    sheet.blocks.append([" ".join(row) for row in rows])
    sheet.lines(margin, bottom + 60, wrap(paragraph(rng, 2), body, width - 2 * margin), body)
    return Page("table_ruled" if ruled else "table_plain", sheet.image, sheet.truth(), rows)


def receipt_page(seed: int, fonts: Fonts) -> Page:
    """A till receipt: shop name and address centred, items with their prices at the right edge."""
    rng = random.Random(seed)
    width, margin = 900, 60
    font = fonts.get(30)
    items = [(f"{rng.choice(WORDS).title()} {rng.choice(WORDS)}", rng.randint(50, 4999) / 100) for _ in range(9)]
    total = sum(price for _, price in items)
    rows = [(name, f"{price:.2f}") for name, price in items]
    rows += [("Subtotal", f"{total:.2f}"), ("VAT 20%", f"{total * 0.2:.2f}"), ("TOTAL", f"{total * 1.2:.2f}")]
    height = 420 + len(rows) * 52 + 200
    sheet = Sheet(width, height)
    head = [f"{rng.choice(WORDS).upper()} MARKET", f"{rng.randint(1, 200)} High Street", "Tel 020 7946 0958"]
    for row, line in enumerate(head):
        sheet.text((width - font.getlength(line)) / 2, 60 + row * 48, line, font)
    sheet.blocks.append(head)
    date = f"Date 2024-{seed % 12 + 1:02d}-{seed % 27 + 1:02d} 14:{seed % 60:02d}"
    sheet.lines(margin, 260, [date], font)
    for row, (label, amount) in enumerate(rows):
        top = 340 + row * 52
        sheet.text(margin, top, label, font)
        sheet.text(width - margin - font.getlength(amount), top, amount, font)
    sheet.blocks.append([f"{label} {amount}" for label, amount in rows])
    sheet.lines(margin, 340 + len(rows) * 52 + 60, ["Thank you for shopping with us"], font)
    return Page("receipt", sheet.image, sheet.truth())


def form_page(seed: int, fonts: Fonts) -> Page:
    """A filled-in form: a title, then rows of two label/value pairs far apart on one baseline."""
    rng = random.Random(seed)
    width, margin = 1654, 120
    font = fonts.get(30)
    first = ["Alice", "Omar", "Chen", "Maria", "Tomas"][seed % 5]
    last = ["Smith", "Khan", "Li", "Garcia", "Novak"][seed % 5]
    pairs = [
        (f"Name: {first} {last}", f"Date of birth: {rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/1985"),
        (f"Phone: 07700 {rng.randint(100000, 999999)}", f"Customer no: {rng.randint(10000, 99999)}"),
        (f"Street: {rng.randint(1, 99)} {rng.choice(WORDS).title()} Road", f"City: {rng.choice(WORDS).title()}"),
        (f"Amount: {rng.randint(100, 9999)}.00", f"Signed: {first[0]}. {last}"),
    ]
    sheet = Sheet(width, 900)
    sheet.lines(margin, 70, ["Application for a service account"], fonts.get(44, bold=True))
    for row, (left, right) in enumerate(pairs):
        top = 220 + row * 90
        sheet.text(margin, top, left, font)
        sheet.text(width / 2 + 80, top, right, font)
        sheet.draw.line([(margin, top + 44), (width - margin, top + 44)], (150, 150, 150), 1)
    sheet.blocks.append([f"{left} {right}" for left, right in pairs])
    sheet.lines(margin, 640, wrap(paragraph(rng, 1), font, width - 2 * margin), font)
    return Page("form", sheet.image, sheet.truth())


def slide_page(seed: int, fonts: Fonts) -> Page:
    """A 16:9 slide: a large title, four bullet points."""
    rng = random.Random(seed)
    sheet = Sheet(1600, 900)
    sheet.lines(100, 80, [" ".join(rng.choice(WORDS) for _ in range(3)).title() + " Plan"], fonts.get(72, bold=True))
    bullets = [sentence(rng, rng.randint(5, 8)) for _ in range(4)]
    font = fonts.get(40)
    for row, bullet in enumerate(bullets):
        sheet.draw.ellipse([110, 292 + row * 110, 126, 308 + row * 110], fill="black")
        sheet.text(150, 275 + row * 110, bullet, font)
    sheet.blocks.append(bullets)
    return Page("slide", sheet.image, sheet.truth())


def scanned(page: Page, seed: int, *, angle: float = 1.5, scale: float = 0.7) -> Page:
    """The page as a poor scan: at 70 % of its resolution, a slight skew, blur, sensor noise, JPEG at
    quality 60."""
    rng = np.random.default_rng(seed)
    image = page.image.convert("L")
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    image = image.filter(ImageFilter.GaussianBlur(0.7))
    pixels = np.asarray(image, dtype=np.int16) + rng.normal(0, 20, (image.height, image.width))
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).convert("RGB").save(buffer, "JPEG", quality=60)
    return Page("scan", Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), page.truth, page.table)


MAKERS: dict[str, Callable[[int, Fonts], Page]] = {
    "columns_1": lambda seed, fonts: columns_page(1, seed, fonts),
    "columns_2": lambda seed, fonts: columns_page(2, seed, fonts),
    "columns_3": lambda seed, fonts: columns_page(3, seed, fonts),
    "table_ruled": lambda seed, fonts: table_page(True, seed, fonts),
    "table_plain": lambda seed, fonts: table_page(False, seed, fonts),
    "receipt": receipt_page,
    "form": form_page,
    "slide": slide_page,
    "scan": lambda seed, fonts: scanned(columns_page(1 + seed % 2, seed, fonts), seed),
}
#: The layout kinds, in the order reports list them.
KINDS = tuple(MAKERS)


def make_page(kind: str, seed: int = 0, fonts: Fonts | None = None) -> Page:
    return MAKERS[kind](seed, fonts or Fonts())


def png(page: Page) -> bytes:
    buffer = io.BytesIO()
    page.image.save(buffer, "PNG")
    return buffer.getvalue()


_TABLE_RULE = re.compile(r"^\s*\|?(\s*:?-{3,}:?\s*\|)+\s*$", re.MULTILINE)
_MARKUP = re.compile(r"^#{1,6}\s+|<[^>]+>|\\(?=[^\w\s])|[|•●▪◦■]", re.MULTILINE)


def plain_text(markdown: str) -> str:
    """The words of a markdown answer: headings' #, table pipes and rules, HTML tags, backslash
    escapes and bullet glyphs removed (they are structure, not text)."""
    return _MARKUP.sub(" ", _TABLE_RULE.sub(" ", markdown))
