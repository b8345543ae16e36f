"""The no-repeat n-gram rule per model, as in each model's official image script.

DeepSeek-OCR's ``run_dpsk_ocr_image.py`` uses n-gram 30 over a window of 90 tokens, DeepSeek-OCR-2's
``run_dpsk_ocr2_image.py`` n-gram 20 over 90 (both spare ``<td>`` and ``</td>``; notes §8).
``DEEPSEEK_NGRAM_SIZE`` / ``DEEPSEEK_NGRAM_WINDOW`` override either value.
"""

from __future__ import annotations

from dataclasses import dataclass

from backends.deepseek_ocr.config import DeepSeekConfig


@dataclass(frozen=True)
class NGramRule:
    size: int
    window: int


OFFICIAL = {"DeepSeek-OCR": NGramRule(30, 90), "DeepSeek-OCR-2": NGramRule(20, 90)}


def ngram_rule(variant: str, config: DeepSeekConfig) -> NGramRule:
    official = OFFICIAL.get(variant, OFFICIAL["DeepSeek-OCR"])
    return NGramRule(config.ngram_size or official.size, config.ngram_window or official.window)
