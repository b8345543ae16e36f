"""The unified result every backend returns, and the error shape every process returns.

The JSON Schema in ``contract.schema.json`` (beside this module) is the published form of the same
contract; tests validate every response of every process against it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

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
        return data


def utc_timestamp(seconds: float | None = None) -> str:
    """ISO 8601 in UTC with milliseconds: now, or the given Unix time."""
    moment = datetime.now(timezone.utc) if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


PAGE_SEPARATOR = "\n\n---\n\n"


@dataclass
class OCRResult:
    """The success shape. Built by the backend server from the backend's :class:`PageResult` list."""

    backend: str
    model: str
    request_id: str
    image_name: str | None
    document_type: str
    pages: list[PageResult]
    raw_result: dict[str, Any]
    processing_time: float
    timings: dict[str, float]
    options: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        markdown = PAGE_SEPARATOR.join(p.markdown for p in self.pages)
        source_markdown = PAGE_SEPARATOR.join(
            p.source_markdown if p.source_markdown is not None else p.markdown for p in self.pages
        )
        return {
            "success": True,
            "backend": self.backend,
            "model": self.model,
            "request_id": self.request_id,
            "image_name": self.image_name,
            "document_type": self.document_type,
            "raw_result": self.raw_result,
            "markdown": markdown,
            "source_markdown": source_markdown,
            "boxes_image": self.pages[0].boxes_image if self.pages else None,
            "processing_time": round(self.processing_time, 4),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "options": self.options,
            "pages": [p.to_json(index) for index, p in enumerate(self.pages, start=1)],
            "warnings": self.warnings + [f"page {i}: {w}" for i, p in enumerate(self.pages, 1) for w in p.warnings],
        }


def error_body(
    code: str, message: str, *, backend: str | None, request_id: str, retryable: bool = False
) -> dict[str, Any]:
    """The error shape, shared by the backends and the orchestrator."""
    return {
        "success": False,
        "backend": backend,
        "error": {"code": code, "message": message, "retryable": retryable},
        "request_id": request_id,
    }


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


__all__ = [
    "Block",
    "PageResult",
    "OCRResult",
    "PAGE_SEPARATOR",
    "SCHEMA_PATH",
    "error_body",
    "load_schema",
    "utc_timestamp",
]
