"""MinerU's ParseResult (MiddleJson 2.0) → our pages: blocks in page pixels, MinerU-rendered markdown.

The markdown of each page is MinerU's own renderer applied to that page alone (``RenderMode.DEFAULT``:
headers, footers and page numbers are left out of the text but kept as blocks). Figures are plain
links in ``markdown`` and ``data:`` URIs in ``source_markdown``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PIL import Image

from shared.api_contract import Block, PageResult
from shared.data_uri import image_data_uri

if TYPE_CHECKING:
    from mineru.parser import ParseResult
    from mineru.types import MiddleJson, PageInfo

#: Visual parents whose body child is a picture.
FIGURE_TYPES = frozenset({"image", "chart"})
#: Children of visual parents that are the parent itself (same index and box), not blocks of their own.
BODY_TYPES = frozenset({"image_body", "table_body", "chart_body", "code_body", "algorithm_body"})


def type_name(node: Any) -> str:
    kind = node.type
    return str(getattr(kind, "value", kind))


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


def _figure_body(block: Any) -> Any | None:
    return next((child for child in block.content if type_name(child) in BODY_TYPES), None)


def figure_link(page_number: int, block: Any) -> str:
    """The plain link of a figure in ``markdown``: MinerU's own path or URL, else a name for the picture."""
    body = _figure_body(block)
    if body is not None and (body.image_path or body.image_url):
        return f"![]({body.image_path or body.image_url})"
    return f"![](images/page{page_number}_fig{block.index}.png)"


def figure_data_uri(block: Any, page_image: Callable[[], Image.Image]) -> str:
    """The figure as a ``data:`` URI: MinerU's own crop when it kept one, else cut from the page image."""
    body = _figure_body(block)
    if body is not None and body.image_base64:
        return str(body.image_base64)
    image = page_image()
    x0, y0, x1, y1 = _pixels(block.bbox, image.width, image.height)
    crop = image.crop((round(x0), round(y0), round(x1), round(y1)))
    return image_data_uri(crop, fmt="PNG")


def page_markdown(middle: MiddleJson, page: PageInfo, renderer: Callable[[Any], str]) -> str:
    """MinerU's markdown of one page, figures drawn by ``renderer``."""
    from mineru.render import render_markdown

    single = middle.model_copy(update={"pages": [page]})
    return render_markdown(
        single, image_renderer=lambda block: renderer(block) if type_name(block) in FIGURE_TYPES else ""
    )


def to_pages(
    result: ParseResult,
    sizes: Sequence[tuple[int, int]],
    page_image: Callable[[int], Image.Image],
    *,
    page_numbers: Sequence[int] | None = None,
) -> list[PageResult]:
    """One :class:`PageResult` per MinerU page. ``sizes`` are the pages' pixel sizes in MinerU's order;
    ``page_image(i)`` renders the i-th of them (only called when a figure has to be cut out);
    ``page_numbers`` are their 1-based numbers in the document, used to name figures.
    """
    middle = result.middle_json
    pages: list[PageResult] = []
    for position, page in enumerate(middle.pages):
        width, height = sizes[position]
        number = page_numbers[position] if page_numbers else position + 1
        cached: list[Image.Image] = []

        def image(position: int = position, cached: list[Image.Image] = cached) -> Image.Image:
            if not cached:
                cached.append(page_image(position))
            return cached[0]

        def link(block: Any, number: int = number) -> str:
            return figure_link(number, block)

        def embedded(block: Any, image: Callable[[], Image.Image] = image) -> str:
            return f"![]({figure_data_uri(block, image)})"

        pages.append(
            PageResult(
                width=width,
                height=height,
                markdown=page_markdown(middle, page, link),
                source_markdown=page_markdown(middle, page, embedded),
                blocks=page_blocks(page, width, height),
            )
        )
    return pages
