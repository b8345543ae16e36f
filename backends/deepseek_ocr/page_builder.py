"""Turns one page's raw DeepSeek-OCR answer into the contract's page: blocks with pixel boxes,
markdown, figure crops and warnings."""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass

from PIL import Image

from backends.deepseek_ocr.finish import PageEnd, page_end
from backends.deepseek_ocr.grounding import TaggedBlock, grid_to_pixels, parse_grounded
from backends.deepseek_ocr.repetition import trim_loops
from shared.api_contract import Block, PageResult
from shared.data_uri import image_data_uri

#: Labels of the grounded document prompt. With other prompts (``OCR this image.``, Locate) the
#: label is the recognised text or the phrase itself, and the content is empty.
LAYOUT_LABELS = frozenset(
    {
        "title",
        "sub_title",
        "text",
        "table",
        "table_caption",
        "table_footnote",
        "image",
        "image_caption",
        "equation",
    }
)
FIGURE_LABEL = "image"
# Loops: blocks whose label and text repeat this many times in a row (runs of up to 10 blocks),
# lines inside a block repeated this many times (runs of up to 6 lines). Real pages rarely repeat
# a block 5 times or a line 8 times in a row; loops repeat them dozens of times.
BLOCK_LOOP_REPEATS, BLOCK_LOOP_PERIOD = 5, 10
LINE_LOOP_REPEATS, LINE_LOOP_PERIOD = 8, 6
# LaTeX the model writes that MathJax and KaTeX do not know.
LATEX_FIXES = ((r"\coloneqq", ":="), (r"\eqqcolon", "=:"))
_CENTER = re.compile(r"</?center>")
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class PageRequest:
    """What the page was asked and how the engine finished."""

    mode: str
    prompt: str
    finish_reason: str
    max_tokens: int
    #: Figure links in ``markdown`` are ``images/{figure_prefix}{k}.jpg``.
    figure_prefix: str = ""


def clean_text(text: str) -> str:
    for old, new in LATEX_FIXES:
        text = text.replace(old, new)
    text = _CENTER.sub("", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _trim_line_loops(text: str, warnings: list[str], where: str) -> str:
    lines = text.split("\n")
    kept, loops = trim_loops(
        lines, lambda line: line.strip(), min_repeats=LINE_LOOP_REPEATS, max_period=LINE_LOOP_PERIOD
    )
    for loop in loops:
        warnings.append(
            f"repetition loop in {where}: {loop.period} line(s) repeated {loop.repeats} times, trimmed to one copy"
        )
    return "\n".join(kept)


def _block_key(block: TaggedBlock) -> Hashable:
    text = " ".join(block.content.split())
    # A block without text (a figure) is only a repeat when its box repeats too.
    return (block.label, text) if text else (block.label, tuple(block.boxes))


def _block_texts(blocks: list[TaggedBlock], texts: list[str]) -> list[str]:
    """Each block's own text. The model often writes a table's caption tag right after the table's
    (empty) tag and puts the caption and the table's HTML under the caption: the markdown keeps
    that order (the caption is above the table), the table's block gets the HTML."""
    own = list(texts)
    for i in range(len(blocks) - 1):
        caption = texts[i + 1]
        if (
            blocks[i].label == "table"
            and not texts[i]
            and blocks[i + 1].label.startswith("table_")
            and "<table" in caption
        ):
            split = caption.index("<table")
            own[i], own[i + 1] = caption[split:].strip(), caption[:split].strip()
    return own


def build_page(raw_text: str, image: Image.Image, request: PageRequest) -> PageResult:
    output = parse_grounded(raw_text)
    warnings = list(output.warnings)
    blocks, loops = trim_loops(output.blocks, _block_key, min_repeats=BLOCK_LOOP_REPEATS, max_period=BLOCK_LOOP_PERIOD)
    for loop in loops:
        warnings.append(
            f"repetition loop: {loop.period} block(s) repeated {loop.repeats} times "
            f"from block {loop.start + 1}, trimmed to one copy"
        )
    truncated = page_end(request.finish_reason) is PageEnd.TRUNCATED
    if truncated and request.finish_reason == "repetition":
        warnings.append(
            "truncated: vLLM stopped a repeating pattern before the end of the page; the text may be incomplete"
        )
    elif truncated:
        warnings.append(
            f"truncated: the model reached its token cap ({request.max_tokens}) before the end "
            "of the page; the text may be incomplete"
        )

    markdown: list[str] = []
    source: list[str] = []
    page_blocks: list[Block] = []
    preamble = clean_text(_trim_line_loops(output.preamble, warnings, "the text"))
    if preamble:
        markdown.append(preamble)
        source.append(preamble)
    figures = 0
    texts = [
        clean_text(_trim_line_loops(tagged.content, warnings, f"block {number}"))
        for number, tagged in enumerate(blocks, start=1)
    ]
    own_texts = _block_texts(blocks, texts)
    for number, (tagged, text, own_text) in enumerate(zip(blocks, texts, own_texts, strict=True), start=1):
        if tagged.label in LAYOUT_LABELS and len(tagged.boxes) > 1:
            warnings.append(f"block {number} ({tagged.label!r}) has {len(tagged.boxes)} boxes")
        if tagged.label == FIGURE_LABEL:
            for box in tagged.boxes:
                pixels = grid_to_pixels(box, image.width, image.height)
                page_blocks.append(Block(type=FIGURE_LABEL, bbox=pixels, text=""))
                markdown.append(f"![](images/{request.figure_prefix}{figures}.jpg)")
                source.append(f"![figure {figures}]({image_data_uri(image.crop(pixels))})")
                figures += 1
            if text:
                markdown.append(text)
                source.append(text)
            continue
        block_type = tagged.label
        if tagged.label not in LAYOUT_LABELS and not text:
            # ``OCR this image.`` and Locate put the text (or the phrase) in the label.
            text = own_text = clean_text(tagged.label)
            block_type = "match" if request.mode == "locate" else "text"
        for box in tagged.boxes:
            pixels = grid_to_pixels(box, image.width, image.height)
            page_blocks.append(Block(type=block_type, bbox=pixels, text=own_text))
        if text:
            markdown.append(text)
            source.append(text)

    return PageResult(
        width=image.width,
        height=image.height,
        markdown=_BLANK_RUNS.sub("\n\n", "\n\n".join(markdown)),
        source_markdown=_BLANK_RUNS.sub("\n\n", "\n\n".join(source)),
        blocks=page_blocks,
        raw={
            "text": raw_text,
            "finish_reason": request.finish_reason,
            "truncated": truncated,
            "mode": request.mode,
            "prompt": request.prompt,
        },
        warnings=warnings,
    )
