"""The unified result every backend returns (:func:`build_result`), and the error shape every process
returns (:func:`error_body`).

The JSON Schema in ``contract.schema.json`` (beside this module) is the published form of the same
contract; tests validate every response of every process against it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from shared.errors import OCRError

SCHEMA_PATH = Path(__file__).with_name("contract.schema.json")

BBox = tuple[float, float, float, float]


@dataclass
class Block:
    """One recognised region: ``bbox`` is ``[x1, y1, x2, y2]`` in the page's own pixels."""

    type: str
    bbox: BBox
    text: str
    score: float | None = None
    polygon: list[tuple[float, float]] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.type,
            "bbox": [round(float(v), 1) for v in self.bbox],
            "text": self.text,
            "score": None if self.score is None else round(float(self.score), 4),
        }
        if self.polygon is not None:
            data["polygon"] = [[round(float(x), 1), round(float(y), 1)] for x, y in self.polygon]
        return data


@dataclass
class PageResult:
    """What a backend makes of one page; ``raw`` is the backend's own output for that page."""

    width: int
    height: int
    markdown: str
    blocks: list[Block] = field(default_factory=list)
    raw: Any = None
    source_markdown: str | None = None
    warnings: list[str] = field(default_factory=list)
    boxes_image: str | None = None
    #: Where the text came from, set by the orchestrator's PDF pipeline: ``backend`` or ``text_layer``.
    source: str | None = None

    def to_json(self, number: int) -> dict[str, Any]:
        data: dict[str, Any] = {
            "page": number,
            "width": self.width,
            "height": self.height,
            "markdown": self.markdown,
            "blocks": [b.to_json() for b in self.blocks],
            "boxes_image": self.boxes_image,
            "warnings": self.warnings,
        }
        # Only where it differs (embedded figures): a page streamed alone (jobs) needs its own.
        if self.source_markdown is not None and self.source_markdown != self.markdown:
            data["source_markdown"] = self.source_markdown
        if self.source is not None:
            data["source"] = self.source
        return data


def utc_timestamp(seconds: float | None = None) -> str:
    """ISO 8601 in UTC with milliseconds: now, or the given Unix time."""
    moment = datetime.now(timezone.utc) if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


PAGE_SEPARATOR = "\n\n---\n\n"


def build_result(
    *,
    backend: str,
    model: str,
    request_id: str,
    image_name: str | None,
    document_type: str,
    pages: Sequence[dict[str, Any]],
    raw_result: dict[str, Any],
    processing_time: float,
    timings: Mapping[str, float],
    options: Mapping[str, Any],
    warnings: Sequence[str] = (),
    **extra: Any,
) -> dict[str, Any]:
    """The success shape, from numbered pages (:meth:`PageResult.to_json`). The one place a result is
    built: by the backend server, and by the orchestrator when it assembles a PDF from slices and
    text-layer pages. ``warnings`` are the document's own; each page keeps its own warnings.
    ``extra`` adds fields after ``options`` (the orchestrator's ``dispatch``)."""
    return {
        "success": True,
        "backend": backend,
        "model": model,
        "request_id": request_id,
        "image_name": image_name,
        "document_type": document_type,
        "raw_result": raw_result,
        "markdown": PAGE_SEPARATOR.join(page["markdown"] for page in pages),
        "source_markdown": PAGE_SEPARATOR.join(page.get("source_markdown", page["markdown"]) for page in pages),
        "boxes_image": pages[0].get("boxes_image") if pages else None,
        "processing_time": round(processing_time, 4),
        "timings": {name: round(seconds, 4) for name, seconds in timings.items()},
        "options": dict(options),
        **extra,
        "pages": list(pages),
        "warnings": list(dict.fromkeys(warnings)),
    }


def error_body(error: OCRError, *, backend: str | None, request_id: str) -> dict[str, Any]:
    """The error shape, shared by the backends and the orchestrator."""
    return {"success": False, "backend": backend, "error": error.to_json(), "request_id": request_id}


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


__all__ = [
    "PAGE_SEPARATOR",
    "SCHEMA_PATH",
    "Block",
    "PageResult",
    "build_result",
    "error_body",
    "load_schema",
    "utc_timestamp",
]
