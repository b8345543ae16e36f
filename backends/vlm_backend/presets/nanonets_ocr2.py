"""Nanonets-OCR2 (nanonets/Nanonets-OCR2-3B, a Qwen2.5-VL-3B fine-tune): the page as markdown.

Source: the model card (huggingface.co/nanonets/Nanonets-OCR2-3B, README.md): its prompt below
and greedy decoding (``do_sample=False``); the same prompt and 15000 new tokens in docling's
``nanonets_ocr2`` preset (docling-project/docling ``docling/datamodel/stage_model_specs.py`` at
e1cb2b234c48ff29746b0f2f843d07f8e23905a0). No image bounds are set by either, so the Qwen2.5-VL
processor's own apply (sides multiples of 28). NanoNets/docext
(``docext/core/pdf2md/pdf2md.py`` at 0edc8f5cc53cb18000628b1fe7bf8409eaa9fc9d) sends a shorter
variant of the same prompt.

The answer is markdown with tables in HTML, LaTeX in ``$…$``/``$$…$$``, ``<img>description</img>``,
``<watermark>``, ``<page_number>``, ``<signature>`` and ☐/☑ checkboxes. Here images become
``![description]()``, the other tags are unwrapped to their text (each stays where the model put it),
``\\[…\\]``/``\\(…\\)`` become ``$$…$$``/``$…$``, and a table left open is closed. The model gives no
positions, so the page has **no blocks** (a page-sized block would claim a layout nobody found).
"""

from __future__ import annotations

import re

from backends.vlm_backend.presets._html_markdown import tidy
from backends.vlm_backend.presets.base import ImageRules, Mode, PageFrame, ParsedPage, Preset, Sampling

PROMPT = (
    "Extract the text from the above document as if you were reading it naturally. Return the tables in html "
    "format. Return the equations in LaTeX representation. If there is an image in the document and image "
    "caption is not present, add a small description of the image inside the <img></img> tag; otherwise, add "
    "the image caption inside <img></img>. Watermarks should be wrapped in brackets. Ex: "
    "<watermark>OFFICIAL COPY</watermark>. Page numbers should be wrapped in brackets. Ex: "
    "<page_number>14</page_number> or <page_number>9/22</page_number>. Prefer using ☐ and ☑ for check boxes."
)

_IMAGE = re.compile(r"<img>(.*?)(?:</img>|$)", re.DOTALL)
_WRAPPERS = re.compile(r"</?(?:watermark|page_number|signature)>")
_DISPLAY = re.compile(r"\\\[(.*?)\\\]", re.DOTALL)
_INLINE = re.compile(r"\\\((.*?)\\\)", re.DOTALL)


def _image(match: re.Match[str]) -> str:
    description = " ".join(match.group(1).split())
    return f"\n\n![{description}]()\n\n"


def parse(answer: str, frame: PageFrame) -> ParsedPage:
    """The answer as the contract's markdown; no blocks (the model gives no positions)."""
    warnings: list[str] = []
    if re.search(r"<img>(?:(?!</img>).)*$", answer, re.DOTALL):
        warnings.append("image description left open (truncated answer?): read to the end")
    markdown = _IMAGE.sub(_image, answer)
    markdown = _WRAPPERS.sub("", markdown)
    markdown = _DISPLAY.sub(lambda m: f"$${m.group(1).strip()}$$", markdown)
    markdown = _INLINE.sub(lambda m: f"${m.group(1).strip()}$", markdown)
    missing = len(re.findall(r"<table\b", markdown)) - len(re.findall(r"</table\s*>", markdown))
    if missing > 0:
        warnings.append("table left open (truncated answer?): closed")
        markdown += "</table>" * missing
    return ParsedPage(tidy(markdown), [], warnings)


PRESET = Preset(
    name="nanonets-ocr2",
    description="Nanonets-OCR2 (nanonets/Nanonets-OCR2-3B, Qwen2.5-VL): markdown with HTML tables; no boxes",
    modes={"markdown": Mode(PROMPT, "The page as markdown: HTML tables, LaTeX, image descriptions, checkboxes")},
    default_mode="markdown",
    parse=parse,
    sampling=Sampling(temperature=0.0, max_tokens=15000),
    image=ImageRules(factor=28),
)
