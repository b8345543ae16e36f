"""GLM-OCR (zai-org/GLM-OCR): one recognition task per request, the answer is markdown.

Source: github.com/zai-org/GLM-OCR at cef4d0ea120d1741f5cefe8985eee45f6c8eff1d, ``glmocr/config.yaml``:
the task prompts (``Text Recognition:``, ``Table Recognition:``, ``Formula Recognition:``), sampling
(8192 tokens, temperature 0, top_p 0.00001, top_k 1, repetition_penalty 1.1) and image bounds
(min_pixels 12544 = 112², max_pixels 71372800; 14-pixel patches merged 2 × 2, so sides are multiples
of 28).

The model gives no boxes: its SDK finds regions with a separate layout model (PP-DocLayoutV3) and
sends each crop with the prompt of its kind. Here the whole image is what the prompt names, so the
answer is one block over the whole page, typed by the mode (text, table or equation); a table comes
as HTML, a formula as LaTeX (wrapped in ``$$`` when the model left it bare).
"""

from __future__ import annotations

import re

from backends.vlm_backend.presets._html_markdown import html_to_markdown, tidy
from backends.vlm_backend.presets.base import ImageRules, Mode, PageFrame, ParsedPage, Preset, Sampling
from shared.api_contract import Block
from shared.layout import EQUATION, TABLE, TEXT

#: Each mode's block type.
MODE_TYPES = {"text": TEXT, "table": TABLE, "formula": EQUATION}
_OPEN_TABLE = re.compile(r"<table\b", re.IGNORECASE)
_CLOSE_TABLE = re.compile(r"</table\s*>", re.IGNORECASE)


def _formula(answer: str) -> str:
    latex = answer.strip()
    for opening, closing in (("$$", "$$"), ("\\[", "\\]"), ("$", "$")):
        if latex.startswith(opening) and latex.endswith(closing) and len(latex) > len(opening) + len(closing):
            latex = latex[len(opening) : -len(closing)].strip()
            break
    return f"$$\n{latex}\n$$" if latex else ""


def parse(answer: str, frame: PageFrame) -> ParsedPage:
    """The answer as markdown and one page-sized block of the mode's type."""
    warnings: list[str] = []
    kind = MODE_TYPES.get(frame.mode, TEXT)
    markdown = tidy(answer)
    if kind == EQUATION:
        markdown = _formula(markdown)
    elif kind == TABLE:
        markdown = html_to_markdown(markdown, warnings)
    missing = len(_OPEN_TABLE.findall(markdown)) - len(_CLOSE_TABLE.findall(markdown))
    if missing > 0:
        warnings.append("table left open (truncated answer?): closed")
        markdown += "</table>" * missing
    if not markdown:
        return ParsedPage("", [], ["empty answer"])
    box = (0.0, 0.0, float(frame.width), float(frame.height))
    return ParsedPage(markdown, [Block(type=kind, bbox=box, text=markdown)], warnings)


PRESET = Preset(
    name="glm-ocr",
    description="GLM-OCR (zai-org/GLM-OCR): task prompts for text, tables and formulas; no boxes",
    modes={
        "text": Mode("Text Recognition:", "The image's text as markdown (one text block over the page)"),
        "table": Mode("Table Recognition:", "The image as one table, in HTML"),
        "formula": Mode("Formula Recognition:", "The image as one formula, in LaTeX"),
    },
    default_mode="text",
    parse=parse,
    sampling=Sampling(temperature=0.0, top_p=0.00001, max_tokens=8192, repetition_penalty=1.1, extra={"top_k": 1}),
    image=ImageRules(min_pixels=12544, max_pixels=71372800, factor=28),
)
