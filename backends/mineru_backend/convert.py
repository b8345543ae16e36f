"""MinerU's ParseResult (MiddleJson 2.0) → our pages: blocks in page pixels, MinerU-rendered markdown.

The markdown of each page is MinerU's own renderer applied to that page alone (``RenderMode.DEFAULT``:
headers, footers and page numbers are left out of the text but kept as blocks). Pictures are plain
links in ``markdown`` and ``data:`` URIs in ``source_markdown`` (:mod:`backends.mineru_backend.figures`).
Pages are matched by MinerU's ``page_idx`` (the page's 0-based index in the file MinerU was given),
never by position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PIL import Image

from backends.mineru_backend.figures import BODY_TYPES, picture_uris, type_name, with_sources
from shared.api_contract import Block, PageResult

if TYPE_CHECKING:
    from mineru.parser import ParseResult
    from mineru.types import MiddleJson, PageInfo


class PagesMismatch(ValueError):
    """MinerU's pages are not the pages it was asked for."""


def _is_block(node: Any) -> bool:
    return hasattr(node, "bbox") and hasattr(node, "index")


def span_text(span: Any) -> str:
    """Plain text of an inline span; inline equations keep their ``$`` delimiters."""
    kind = type_name(span)
    if kind == "equation_inline":
        return f"${span.content}$"
    if isinstance(span.content, list):
        return "".join(span_text(child) for child in span.content)
    return str(span.content)


def block_text(block: Any) -> str:
    """The text of a block: spans joined, LaTeX of equations, HTML of tables, the body of a visual parent."""
    content = block.content
    if isinstance(content, str):
        return content
    if content and _is_block(content[0]):
        bodies = [child for child in content if type_name(child) in BODY_TYPES]
        return "\n".join(block_text(child) for child in bodies or content)  # a list block: its items
    return "".join(span_text(span) for span in content)


def _pixels(bbox: Sequence[float], width: int, height: int) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = bbox
    return (x0 * width, y0 * height, x1 * width, y1 * height)


def page_blocks(page: PageInfo, width: int, height: int) -> list[Block]:
    """Top-level blocks in reading order; captions and footnotes of figures and tables follow their parent."""
    blocks: list[Block] = []
    for block in page.blocks:
        if block.bbox is None:
            continue
        blocks.append(Block(type_name(block), _pixels(block.bbox, width, height), block_text(block)))
        content = block.content
        if type_name(block) == "list" or not isinstance(content, list) or not content or not _is_block(content[0]):
            continue
        for child in content:
            if type_name(child) not in BODY_TYPES and child.bbox is not None:
                blocks.append(Block(type_name(child), _pixels(child.bbox, width, height), block_text(child)))
    return blocks


def page_markdown(middle: MiddleJson, page: PageInfo) -> str:
    """MinerU's markdown of one page."""
    from mineru.render import render_markdown

    return render_markdown(middle.model_copy(update={"pages": [page]}))


def pages_by_index(result: ParseResult, indices: Sequence[int]) -> list[PageInfo]:
    """MinerU's pages in the order of ``indices`` (``page_idx`` values); PagesMismatch otherwise."""
    found = {page.page_idx: page for page in result.middle_json.pages}
    if sorted(found) != sorted(indices) or len(found) != len(result.middle_json.pages):
        got = [page.page_idx + 1 for page in result.middle_json.pages]
        wanted = [i + 1 for i in indices]
        raise PagesMismatch(f"mineru returned pages {got} for pages {wanted} of the file it was given")
    return [found[index] for index in indices]


def to_pages(
    result: ParseResult,
    indices: Sequence[int],
    sizes: Sequence[tuple[int, int]],
    page_image: Callable[[int], Image.Image],
) -> list[PageResult]:
    """One :class:`PageResult` per entry of ``indices`` (MinerU ``page_idx`` values, in the order
    wanted); ``sizes`` are those pages' pixel sizes and ``page_image(i)`` renders the i-th of them
    (only called when a figure has to be cut out)."""
    middle = result.middle_json
    pages: list[PageResult] = []
    for position, page in enumerate(pages_by_index(result, indices)):
        width, height = sizes[position]
        cached: list[Image.Image] = []

        def image(position: int = position, cached: list[Image.Image] = cached) -> Image.Image:
            if not cached:
                cached.append(page_image(position))
            return cached[0]

        uris = picture_uris(page, image)
        pages.append(
            PageResult(
                width=width,
                height=height,
                markdown=page_markdown(middle, with_sources(page, uris, embed=False)),
                source_markdown=page_markdown(middle, with_sources(page, uris, embed=True)),
                blocks=page_blocks(page, width, height),
            )
        )
    return pages
