"""MinerU test tools: recorded MiddleJson documents and a stand-in parser in the backend's seam.

MinerU stays offline in tests (see ``tests/support/mineru_offline.py``, which the conftest runs first).
"""

from __future__ import annotations

import json
import stat
import threading
import time
from pathlib import Path
from typing import Any

from tests.support.mineru_offline import keep_mineru_offline

keep_mineru_offline()  # again, for a process that imports this module without the conftest

from mineru.parser import ParseResult  # noqa: E402  (after keep_mineru_offline)
from mineru.version import __version__ as MINERU_VERSION  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mineru"


def fixture(name: str = "document.json") -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def pages_of(document: dict[str, Any], indices: list[int]) -> dict[str, Any]:
    """The document with only the pages at ``indices`` (what MinerU returns for a page range)."""
    return {**document, "pages": [document["pages"][i] for i in indices]}


def selected_indices(page_range: str, count: int) -> list[int]:
    if not page_range:
        return list(range(count))
    indices: list[int] = []
    for part in page_range.split(","):
        first, _, last = part.partition("-")
        indices.extend(range(int(first) - 1, int(last or first)))
    return indices


class StandInParser:
    """Plays MinerU in the backend's seam: returns real ``ParseResult`` objects made from fixtures.

    Images (PNG files) get the fixture's first page, PDFs the pages their ``page_range`` selects.
    Each call is recorded with what the file looked like while MinerU had it.
    """

    def __init__(
        self,
        document: dict[str, Any] | None = None,
        *,
        missing: dict[str, str] | None = None,
        fail: Exception | None = None,
        delay: float = 0.0,
    ) -> None:
        self.document = document or fixture()
        self.missing = missing or {}
        self.fail = fail
        self.delay = delay
        self.calls: list[dict[str, Any]] = []
        self.prepared = False
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()

    def prepare(self) -> None:
        self.prepared = True

    def version(self) -> str:
        return MINERU_VERSION

    def missing_models(self, tier: str) -> str | None:
        return self.missing.get(tier)

    def parse(self, path: Path, *, tier: str, ocr_mode: str, page_range: str) -> ParseResult:
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            data = path.read_bytes()
            self.calls.append(
                {
                    "path": path,
                    "tier": tier,
                    "ocr_mode": ocr_mode,
                    "page_range": page_range,
                    "mode": stat.S_IMODE(path.stat().st_mode),
                    "head": data[:8],
                }
            )
            time.sleep(self.delay)
            if self.fail is not None:
                raise self.fail
            pdf = data.startswith(b"%PDF")
            indices = selected_indices(page_range, len(self.document["pages"])) if pdf else [0]
            return ParseResult.from_dict(pages_of(self.document, indices))
        finally:
            with self._lock:
                self.active -= 1
