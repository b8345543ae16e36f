"""Figure blocks cut from the page and shown in the markdown: ``markdown`` links each to a name
(``images/<prefix><k>.jpg``), ``source_markdown`` embeds it as a data URI.

Where a figure goes: the parser's k-th markdown image (``![...](...)``) is the k-th figure block
when it has one (models that write a placeholder for each picture); otherwise the figure is put
after the text of the block before it, or at the end when that text is not in the markdown.
"""

from __future__ import annotations

import re

from PIL import Image

from shared.api_contract import Block
from shared.data_uri import image_data_uri
from shared.layout import FIGURE

IMAGE_LINK = re.compile(r"!\[([^\]\n]*)\]\(([^)\s]*)\)")


def crop(image: Image.Image, block: Block) -> str:
    x1, y1, x2, y2 = block.bbox
    box = (int(x1), int(y1), max(int(x1) + 1, round(x2)), max(int(y1) + 1, round(y2)))
    return image_data_uri(image.crop(box))


def embed_figures(image: Image.Image, markdown: str, blocks: list[Block], prefix: str = "") -> tuple[str, str]:
    """``(markdown, source_markdown)`` with each figure block of ``blocks`` (boxes in ``image``'s
    pixels) linked, and embedded; both the parser's markdown when there is no figure."""
    figures = [index for index, block in enumerate(blocks) if block.type == FIGURE]
    if not figures:
        return markdown, markdown
    uris = [crop(image, blocks[index]) for index in figures]
    names = [f"images/{prefix}{k}.jpg" for k in range(len(figures))]
    links = list(IMAGE_LINK.finditer(markdown))
    placed = min(len(links), len(figures))
    linked, source = _replace_links(markdown, links[:placed], names), _replace_links(markdown, links[:placed], uris)
    for k in range(placed, len(figures)):
        before = blocks[figures[k] - 1].text.strip() if figures[k] > 0 else ""
        linked = _insert_after(linked, before, f"![figure {k}]({names[k]})")
        source = _insert_after(source, before, f"![figure {k}]({uris[k]})")
    return linked, source


def _replace_links(markdown: str, links: list[re.Match[str]], targets: list[str]) -> str:
    parts, end = [], 0
    for link, target in zip(links, targets, strict=False):
        parts += [markdown[end : link.start()], f"![{link.group(1)}]({target})"]
        end = link.end()
    return "".join(parts) + markdown[end:]


def _insert_after(markdown: str, text: str, figure: str) -> str:
    at = markdown.find(text) if text else -1
    if at < 0:
        return f"{markdown.rstrip()}\n\n{figure}\n" if markdown.strip() else f"{figure}\n"
    end = at + len(text)
    return f"{markdown[:end]}\n\n{figure}\n\n{markdown[end:].lstrip()}"
