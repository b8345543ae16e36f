"""Parsing helpers shared by the presets (skipped by the registry: its name starts with ``_``).

Every helper takes what a model wrote as untrusted text: it never raises on it, and says what it
dropped or repaired in the ``warnings`` list it is given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from backends.vlm_backend.presets.base import PageFrame, ParsedPage
from shared.api_contract import Block
from shared.layout import BLOCK_TYPES, EQUATION, TEXT, TITLE

_FENCE = re.compile(r"^\s*```[\w-]*[ \t]*\n?(.*?)(?:\n?```\s*)?$", re.DOTALL)
_DISPLAY_MATH = re.compile(r"^\s*(?:\$\$(.*)\$\$|\\\[(.*)\\\]|\$([^$]*)\$)\s*$", re.DOTALL)
_HEADING = re.compile(r"^\s*#{1,6}\s+")


def strip_fence(answer: str) -> str:
    """The answer without the markdown code fence (```json, ```html...) around all of it, also when
    the closing fence was cut off; an answer with other fences inside is left as it is."""
    match = _FENCE.match(answer)
    if match is None or "```" in match.group(1):
        return answer.strip()
    return match.group(1).strip()


def json_items(answer: str, warnings: list[str]) -> list[Any]:
    """The items of a JSON list answer (one object counts as a list of one). A list cut short (the
    token limit) keeps its complete items; anything unreadable gives ``[]``, with a warning."""
    text = strip_fence(answer)
    start = min((i for i in (text.find("["), text.find("{")) if i >= 0), default=-1)
    if start < 0:
        if text:
            warnings.append("answer is not JSON: no layout items read")
        return []
    decoder = json.JSONDecoder()
    try:
        value, _ = decoder.raw_decode(text, start)
    except ValueError:
        return _complete_items(text, start, decoder, warnings)
    if isinstance(value, dict):
        return [value]
    return list(value)


def _complete_items(text: str, start: int, decoder: json.JSONDecoder, warnings: list[str]) -> list[Any]:
    """The complete objects at the start of a JSON list that does not parse (cut off or broken)."""
    items: list[Any] = []
    position = start + 1 if text[start] == "[" else start
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text):
            warnings.append(f"JSON list not closed (answer cut short?): its {len(items)} complete items kept")
            break
        if text[position] == "]":
            break
        try:
            item, position = decoder.raw_decode(text, position)
        except ValueError:
            warnings.append(f"JSON answer broken or cut short after {len(items)} complete items: the rest dropped")
            break
        items.append(item)
    return items


def numbers(value: Any) -> list[Any] | None:
    """A box written as a list, or as a string of numbers (``"10 20 30 40"``, ``"10,20,30,40"``)."""
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        try:
            return [float(v) for v in re.split(r"[\s,]+", value.strip().strip("[]()")) if v]
        except ValueError:
            return None
    return None


def block_type(label: Any, types: Mapping[str, str], warnings: list[str]) -> str:
    """The contract's block type for a model's category (matched without regard to case); an unknown
    one reads as text, with a warning."""
    kind = types.get(str(label).strip().lower()) if label is not None else None
    if kind is None:
        warnings.append(f"unknown category {label!r} read as text")
        return TEXT
    assert kind in BLOCK_TYPES, kind
    return kind


def heading(text: str, level: int = 1) -> str:
    """``text`` as a markdown heading of ``level`` (a heading the model already wrote is kept)."""
    text = text.strip()
    if _HEADING.match(text):
        return text
    return "#" * min(max(level, 1), 6) + " " + " ".join(text.split())


def unheaded(text: str) -> str:
    """A heading's text without the markdown ``#`` marks a model put in front of it."""
    return _HEADING.sub("", text.strip(), count=1)


def equation(latex: str) -> str:
    """Display LaTeX in ``$$`` (``$$…$$``, ``\\[…\\]`` or ``$…$`` around all of it already are not
    doubled); text that already marks its math with ``$`` elsewhere (prose with inline math) is kept."""
    match = _DISPLAY_MATH.match(latex)
    if match:
        latex = next(group for group in match.groups() if group is not None)
    elif "$" in latex.replace("\\$", ""):
        return latex.strip()
    return f"$$\n{latex.strip()}\n$$"


def display_math(markdown: str) -> str:
    """Display math written as ``\\[ … \\]`` turned into ``$$ … $$`` (inline ``\\( \\)`` is kept)."""
    return re.sub(r"\\\[(.+?)\\\]", lambda m: equation(m.group(1)), markdown, flags=re.DOTALL)


def inline_math(markdown: str) -> str:
    """Inline math written as ``\\( … \\)`` turned into ``$…$``."""
    return re.sub(r"\\\((.*?)\\\)", lambda m: f"${m.group(1).strip()}$", markdown, flags=re.DOTALL)


def block_markdown(kind: str, text: str, level: int = 1) -> str:
    """A block's text as markdown: titles as headings, equations in ``$$``, the rest (tables as HTML)
    as written."""
    if not text.strip():
        return ""
    if kind == TITLE:
        return heading(text, level)
    if kind == EQUATION:
        return equation(text)
    return text.strip()


def join_markdown(parts: Iterable[str]) -> str:
    """Markdown parts, blank-line separated, empty ones left out."""
    return "\n\n".join(p for p in (part.strip() for part in parts) if p)


def tidy(markdown: str) -> str:
    """Trailing spaces off each line, at most one blank line in a row, no blank start or end."""
    lines = [line.rstrip() for line in markdown.split("\n")]
    text = "\n".join(line if line.strip() else "" for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def close_tables(markdown: str, warnings: list[str]) -> str:
    """``markdown`` with each ``<table>`` left open (an answer cut short) closed, with a warning."""
    missing = len(re.findall(r"<table\b", markdown, re.IGNORECASE)) - len(
        re.findall(r"</table\s*>", markdown, re.IGNORECASE)
    )
    if missing <= 0:
        return markdown
    warnings.append("table left open (truncated answer?): closed")
    return markdown + "</table>" * missing


def whole_image(kind: str, markdown: str, text: str, frame: PageFrame, warnings: list[str]) -> ParsedPage:
    """The answer to a task prompt that names what the whole image is (a table, a formula...): its
    markdown and one page-sized block of that ``kind`` holding ``text``; nothing for an empty answer."""
    if not markdown.strip():
        return ParsedPage("", [], [*warnings, f"empty answer in mode {frame.mode!r}: no block"])
    box = (0.0, 0.0, float(frame.width), float(frame.height))
    return ParsedPage(markdown, [Block(type=kind, bbox=box, text=text.strip())], warnings)
