"""PaddleOCR-VL (``PaddlePaddle/PaddleOCR-VL``, 0.9B): element recognition by task prompt.

Sources:

- vllm-project/recipes, ``PaddlePaddle/PaddleOCR-VL.md`` (commit 19623e6487461293b2f885e47a4da7198ebda504):
  the task prompts ``OCR:``, ``Table Recognition:``, ``Formula Recognition:``,
  ``Chart Recognition:`` and ``temperature=0.0``.
- The model's ``preprocessor_config.json`` (min_pixels 147384, max_pixels 2822400, patch 14,
  merge 2: factor 28) and PaddleX's ``max_new_tokens`` default of 8192, as quoted by the code
  bases that serve it (not read from the model hub here).

PaddleOCR's own pipeline runs a layout model first and sends each region with its prompt; here
the whole page is sent, so ``ocr`` (the default) reads the page as text without boxes, and the
element modes read the page as one element: one page-sized block of its type. Tables come as
OTSL tokens (``<fcel>…<nl>``) and are converted to HTML; formulas are LaTeX, put in ``$$``.
"""

from __future__ import annotations

from backends.vlm_backend.presets._otsl import has_otsl, otsl_to_html
from backends.vlm_backend.presets._parsing import block_markdown, strip_fence, whole_image
from backends.vlm_backend.presets.base import ImageRules, Mode, PageFrame, ParsedPage, Preset, Sampling
from shared.layout import EQUATION, FIGURE, TABLE

MODES = {
    "ocr": Mode(prompt="OCR:", description="The page's text (no boxes: no blocks)."),
    "table": Mode(prompt="Table Recognition:", description="The page is one table: HTML, one table block."),
    "formula": Mode(prompt="Formula Recognition:", description="The page is one formula: LaTeX, one equation block."),
    "chart": Mode(prompt="Chart Recognition:", description="The page is one chart: its data table, one figure block."),
}
#: The block type of each element mode.
_ELEMENT_TYPES = {"table": TABLE, "formula": EQUATION, "chart": FIGURE}


def _text(answer: str, warnings: list[str]) -> str:
    """The answer with OTSL tables turned into HTML, line by line (a page may mix text and a table)."""
    body = strip_fence(answer)
    if not has_otsl(body):
        return body
    if body.lstrip().startswith("<") and has_otsl(body.splitlines()[0]):
        return otsl_to_html(body, warnings)
    return "\n".join(otsl_to_html(line, warnings) if has_otsl(line) else line for line in body.splitlines())


def parse(answer: str, frame: PageFrame) -> ParsedPage:
    """Text (``ocr`` or a custom prompt) as markdown; an element mode as its markdown and one
    page-sized block of its type."""
    warnings: list[str] = []
    text = _text(answer, warnings)
    kind = _ELEMENT_TYPES.get(frame.mode)
    if kind is None:
        return ParsedPage(markdown=text, warnings=warnings)
    return whole_image(kind, block_markdown(kind, text), text, frame, warnings)


PRESET = Preset(
    name="paddleocr-vl",
    description="PaddleOCR-VL 0.9B; task prompts from vllm-project/recipes, image rules from its preprocessor config.",
    modes=MODES,
    default_mode="ocr",
    parse=parse,
    sampling=Sampling(temperature=0.0, max_tokens=8192),
    image=ImageRules(min_pixels=147384, max_pixels=2822400, factor=28),
)
