"""Pictures in MinerU's pages: where each one comes from, what it is called, and the two versions of
a page that MinerU's renderer then draws — links only (``markdown``) or pictures embedded
(``source_markdown``).

A picture is a payload block (``image_body``, ``chart_body``, ``table_body``, ``equation``) that
carries one: MinerU keeps its crops in memory as ``image_base64`` data URIs. A figure body with no
picture at all (a document read back from JSON) is cut from the page image. Swapping the sources
before rendering, rather than passing MinerU an image renderer, keeps every picture MinerU would
draw (a chart beside its table, a table or equation it kept only as a picture) out of ``markdown``.

Names are digests of the picture (``images/<sha256[:16]>.jpg``): unique across the orchestrator's
page slices, which reach the backend as separate PDFs numbered from 1, and the same for the same
picture.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

from PIL import Image

from shared.data_uri import image_data_uri

PAYLOAD_TYPES = frozenset({"image_body", "chart_body", "table_body", "equation"})
#: Children of visual parents that are the parent itself (same index and box), not blocks of their own.
BODY_TYPES = frozenset({"image_body", "table_body", "chart_body", "code_body", "algorithm_body"})
FIGURE_BODIES = frozenset({"image_body", "chart_body"})
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}


def type_name(node: Any) -> str:
    kind = node.type
    return str(getattr(kind, "value", kind))


def payloads(page: Any) -> Iterator[tuple[Any, Any]]:
    """``(payload, the block whose box it fills)`` for every picture-carrying block of a page."""
    for block in page.blocks:
        if type_name(block) in PAYLOAD_TYPES:
            yield block, block
        elif isinstance(block.content, list):
            for child in block.content:
                if hasattr(child, "bbox") and type_name(child) in PAYLOAD_TYPES:
                    yield child, block


def figure_name(uri: str) -> str:
    """``images/<digest>.<ext>`` for a ``data:`` URI."""
    mime = uri[5:].split(";", 1)[0]
    return f"images/{hashlib.sha256(uri.encode('ascii')).hexdigest()[:16]}.{_EXTENSIONS.get(mime, 'img')}"


def crop(image: Image.Image, bbox: tuple[float, float, float, float]) -> str:
    x0, y0, x1, y1 = bbox
    box = (round(x0 * image.width), round(y0 * image.height), round(x1 * image.width), round(y1 * image.height))
    return image_data_uri(image.crop(box), fmt="PNG")


def picture_uris(page: Any, page_image: Callable[[], Image.Image]) -> dict[int, str]:
    """The picture of each payload (by ``id``) as a data URI: MinerU's own, else a figure cut from
    the page; payloads with neither (a table MinerU read as HTML) have none."""
    uris: dict[int, str] = {}
    for payload, holder in payloads(page):
        if payload.image_base64:
            uris[id(payload)] = str(payload.image_base64)
        elif type_name(payload) in FIGURE_BODIES and not (payload.image_path or payload.image_url):
            uris[id(payload)] = crop(page_image(), holder.bbox)
    return uris


def _replace(block: Any, change: Callable[[Any], Any]) -> Any:
    """``block`` with ``change`` applied to it (if a payload) and to its payload children."""
    if type_name(block) in PAYLOAD_TYPES:
        return change(block)
    if isinstance(block.content, list) and block.content and hasattr(block.content[0], "bbox"):
        return block.model_copy(update={"content": [_replace(child, change) for child in block.content]})
    return block


def with_sources(page: Any, uris: dict[int, str], *, embed: bool) -> Any:
    """The page with each picture as a link to its name (``embed=False``) or as its data URI."""

    def change(payload: Any) -> Any:
        uri = uris.get(id(payload))
        if uri is None:
            return payload.model_copy(update={"image_base64": None}) if not embed else payload
        if embed:
            return payload.model_copy(update={"image_base64": uri, "image_path": None, "image_url": None})
        if payload.image_path or payload.image_url:
            return payload.model_copy(update={"image_base64": None})  # MinerU's own name or URL
        return payload.model_copy(update={"image_base64": None, "image_path": figure_name(uri)})

    return page.model_copy(update={"blocks": [_replace(block, change) for block in page.blocks]})
