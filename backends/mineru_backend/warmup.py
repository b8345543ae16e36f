"""The warm-up parse ``load()`` runs: a tiny generated PDF through the default tier, so that the
first request does not pay for loading MinerU's models (or starting its VLM engine) against the
orchestrator's read timeout, and ``/health`` says healthy only once a parse has worked."""

from __future__ import annotations

import pymupdf

from backends.mineru_backend.settings import OcrMode, Tier

WARMUP_TEXT = "MinerU warm-up page"


def warmup_pdf() -> bytes:
    """One born-digital page with a heading-sized line of text."""
    document = pymupdf.open()
    try:
        page = document.new_page(width=420, height=200)
        page.insert_text((40, 100), WARMUP_TEXT, fontsize=20)
        return document.tobytes(garbage=1, deflate=True, no_new_id=True)
    finally:
        document.close()


def warmup_mode(tier: Tier) -> OcrMode:
    """flash reads the text layer; every other tier OCRs, so its layout and OCR models load too."""
    return "txt" if tier == "flash" else "ocr"
