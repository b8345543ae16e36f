"""Born-digital PDFs for MinerU's flash tier, generated the same way every time: the inputs of the
recorded fixtures (``tests/fixtures/mineru/record.py``) and of the end-to-end tests.

``report``: four A4 pages. Page 1: a title, a section heading, a paragraph, a ruled table with its
caption, a figure (an embedded picture) with its caption, a page number. Page 2: a heading, a
sentence, a page number. Page 3: only a picture of a page (no text layer, as a scan). Page 4: a
heading and a sentence. ``long``: ten pages of text with a different figure on pages 1 and 9 (in
the first and second of the orchestrator's 8-page slices).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pymupdf
from PIL import Image, ImageDraw

from backends.mineru_backend.warmup import warmup_pdf

TABLE = [["Quarter", "Revenue", "Cost"], ["Q1", "10", "7"], ["Q2", "12", "7"]]
#: The text of each page of ``report`` as MinerU reads it (page 3 has none).
REPORT_TEXT = [
    [
        "Quarterly Report",
        "1. Results",
        "Revenue grew by twelve percent year over year.",
        "Costs were flat across all regions of the company.",
        "Table 1. Revenue by quarter",
        "Figure 1. Growth by region",
    ],
    ["2. Outlook", "We expect revenue to keep growing next year."],
    [],
    ["3. Appendix", "Details follow in the annex."],
]


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def bar_chart(colour: tuple[int, int, int], *, size: tuple[int, int] = (400, 250)) -> bytes:
    """A picture of bars: a figure with no text in it."""
    image = Image.new("RGB", size, (235, 240, 250))
    draw = ImageDraw.Draw(image)
    for bar, height in enumerate((80, 140, 110, 200, 170)):
        x = 30 + bar * 70
        draw.rectangle((x, size[1] - 20 - height, x + 40, size[1] - 20), fill=colour)
    return _png(image)


def scanned_page() -> bytes:
    """A white A4 page at 75 dpi with a line of drawn text: a picture, not a text layer."""
    image = Image.new("L", (620, 877), 255)
    ImageDraw.Draw(image).text((60, 80), "This page is a scan without a text layer", fill=0, font_size=18)
    return _png(image)


def _report_page_one(page: pymupdf.Page) -> None:
    page.insert_text((72, 80), REPORT_TEXT[0][0], fontsize=24)
    page.insert_text((72, 130), REPORT_TEXT[0][1], fontsize=16)
    page.insert_text((72, 160), REPORT_TEXT[0][2], fontsize=11)
    page.insert_text((72, 176), REPORT_TEXT[0][3], fontsize=11)
    page.insert_text((72, 210), REPORT_TEXT[0][4], fontsize=10)
    for row, cells in enumerate(TABLE):
        for column, cell in enumerate(cells):
            rect = pymupdf.Rect(72 + column * 120, 220 + row * 22, 72 + (column + 1) * 120, 220 + (row + 1) * 22)
            page.draw_rect(rect, color=(0, 0, 0), width=0.8)
            page.insert_text((rect.x0 + 6, rect.y1 - 7), cell, fontsize=11)
    page.insert_image(pymupdf.Rect(72, 320, 372, 507), stream=bar_chart((200, 60, 40)))
    page.insert_text((72, 525), REPORT_TEXT[0][5], fontsize=10)
    page.insert_text((290, 800), "1", fontsize=9)


def _heading_page(page: pymupdf.Page, heading: str, sentence: str, number: str | None) -> None:
    page.insert_text((72, 80), heading, fontsize=16)
    page.insert_text((72, 110), sentence, fontsize=11)
    if number:
        page.insert_text((290, 800), number, fontsize=9)


def _build(pages: list[Callable[[pymupdf.Page], None]]) -> bytes:
    document = pymupdf.open()
    try:
        for draw in pages:
            draw(document.new_page())  # A4 portrait, 595 x 842 pt
        return document.tobytes(garbage=1, deflate=True, no_new_id=True)
    finally:
        document.close()


def report_pdf() -> bytes:
    return _build(
        [
            _report_page_one,
            lambda page: _heading_page(page, *REPORT_TEXT[1], "2"),
            lambda page: page.insert_image(page.rect, stream=scanned_page()),
            lambda page: _heading_page(page, *REPORT_TEXT[3], None),
        ]
    )


def long_pdf() -> bytes:
    def text_page(number: int) -> Callable[[pymupdf.Page], None]:
        def draw(page: pymupdf.Page) -> None:
            _heading_page(page, f"Section {number}", f"This is the text of page {number} of the long report.", None)
            for line in range(5):
                words = f"Line {line + 1} of page {number} says what the report found about its subject."
                page.insert_text((72, 130 + line * 16), words, fontsize=11)
            if number in (1, 9):
                colour = (40, 120, 200) if number == 1 else (30, 160, 60)
                page.insert_image(pymupdf.Rect(72, 240, 372, 427), stream=bar_chart(colour))
                page.insert_text((72, 445), f"Figure {number}. Bars", fontsize=10)

        return draw

    return _build([text_page(number) for number in range(1, 11)])


#: Every generated document by name; ``warmup`` is the backend's own warm-up page.
DOCUMENTS: dict[str, Callable[[], bytes]] = {"report": report_pdf, "long": long_pdf, "warmup": warmup_pdf}


def truncated_pdf() -> bytes:
    """``report`` cut in half: PyMuPDF repairs it (four pages), pdfium (MinerU's engine) refuses it."""
    data = report_pdf()
    return data[: len(data) // 2]
