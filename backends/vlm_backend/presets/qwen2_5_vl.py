"""Qwen2.5-VL (``Qwen/Qwen2.5-VL-*-Instruct``): a generic document VLM.

Sources (QwenLM/Qwen2.5-VL, commit f0af2996e843cf46aa5f778c38d6694500c2ca81):

- ``cookbooks/document_parsing.ipynb``: the "QwenVL HTML" format, asked for with the system prompt
  and the user prompt ``QwenVL HTML`` used here verbatim; every element carries
  ``data-bbox="x1 y1 x2 y2"`` in pixels of the image the model saw (the notebook draws the boxes
  on the image resized to ``input_width`` × ``input_height``). Its API path sends images with
  ``min_pixels=512*28*28`` and ``max_pixels=2048*28*28``: the image rules here.
- ``cookbooks/ocr.ipynb``: ``Read all the text in the image.`` for plain full-page OCR.

The ``markdown`` mode's prompt is this project's own (the cookbooks publish none for markdown): an
answer without boxes gives markdown and no blocks. No sampling settings are published for these
tasks: greedy decoding, no repetition guard (an assumption, unverified on a GPU).
"""

from __future__ import annotations

from collections.abc import Callable

from backends.vlm_backend.presets._boxed_html import kind_from_tag, parse_boxed_html
from backends.vlm_backend.presets._parsing import strip_fence
from backends.vlm_backend.presets.base import ImageRules, Mode, PageFrame, ParsedPage, Parser, Preset, Sampling

HTML_SYSTEM = (
    "You are an AI specialized in recognizing and extracting text from images. Your mission is to analyze "
    "the image document and generate the result in QwenVL Document Parser HTML format using specified tags "
    "while maintaining user privacy and data integrity."
)

MODES = {
    "markdown": Mode(
        prompt=(
            "Convert this document page to Markdown in reading order. Use # headings for titles, keep tables "
            "as HTML <table> elements, write equations as LaTeX in $$ … $$, and output only the Markdown."
        ),
        description="The page as markdown (no boxes: no blocks).",
    ),
    "html": Mode(
        prompt="QwenVL HTML",
        description="QwenVL HTML: every element with its box (blocks with boxes).",
        system=HTML_SYSTEM,
    ),
    "ocr": Mode(prompt="Read all the text in the image.", description="Plain text of the page (no blocks)."),
}


def qwen_parser(grid: Callable[[PageFrame], tuple[float, float]]) -> Parser:
    """Boxed HTML (boxes on ``grid(frame)``) when the answer has ``data-bbox``; any other answer is
    markdown without blocks (it is not read as HTML: the markdown and ocr modes answer markdown)."""

    def parse(answer: str, frame: PageFrame) -> ParsedPage:
        if "data-bbox" in answer:
            return parse_boxed_html(answer, *grid(frame), frame, kind_from_tag)
        return ParsedPage(markdown=strip_fence(answer))

    return parse


#: Qwen2.5-VL boxes are in pixels of the image it saw.
parse = qwen_parser(lambda frame: (frame.sent_width, frame.sent_height))


PRESET = Preset(
    name="qwen2.5-vl",
    description="Qwen2.5-VL Instruct; prompts from QwenLM/Qwen2.5-VL cookbooks (document_parsing, ocr).",
    modes=MODES,
    default_mode="markdown",
    parse=parse,
    sampling=Sampling(temperature=0.0, max_tokens=8192),
    image=ImageRules(min_pixels=512 * 28 * 28, max_pixels=2048 * 28 * 28, factor=28),
)
