"""MinerU test tools: the recordings of MinerU's real output (``tests/fixtures/mineru/``, written by
``python -m tests.fixtures.mineru.record``) and a stand-in parser in the backend's seam that answers
with them.

MinerU stays offline in tests (see ``tests/support/mineru_offline.py``, which the conftest runs first).
"""

from __future__ import annotations

import json
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.mineru_offline import keep_mineru_offline

keep_mineru_offline()  # again, for a process that imports this module without the conftest

from mineru.parser import ParseResult  # noqa: E402  (after keep_mineru_offline)
from mineru.version import __version__ as MINERU_VERSION  # noqa: E402

from backends.mineru_backend.models import deployment_tier  # noqa: E402
from tests.support.mineru_documents import DOCUMENTS  # noqa: E402

WARMUP_PDF = DOCUMENTS["warmup"]()

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mineru"


@dataclass(frozen=True)
class Recording:
    """One real ``mineru.parser.parse`` run: which generated document, with which settings."""

    name: str
    document: str
    tier: str = "flash"
    ocr_mode: str = "auto"
    page_range: str = ""

    @property
    def path(self) -> Path:
        return FIXTURES / f"{self.name}.json"

    def settings(self) -> dict[str, str]:
        return {"tier": self.tier, "ocr_mode": self.ocr_mode, "page_range": self.page_range}

    def pdf(self) -> bytes:
        return DOCUMENTS[self.document]()


RECORDINGS = {
    recording.name: recording
    for recording in (
        Recording("report", "report"),
        Recording("report-pages-2-3", "report", ocr_mode="txt", page_range="2,3"),
        Recording("long", "long"),
        Recording("warmup", "warmup", ocr_mode="txt"),
    )
}


def recorded(name: str = "report") -> dict[str, Any]:
    """The middle JSON MinerU gave for recording ``name`` (``ParseResult.to_dict()``)."""
    return json.loads(RECORDINGS[name].path.read_text(encoding="utf-8"))["result"]


def pages_of(document: dict[str, Any], indices: list[int]) -> dict[str, Any]:
    """The document with only the pages whose ``page_idx`` is in ``indices``, numbered as MinerU
    numbers them for a page range (their index in the original file)."""
    chosen = [page for page in document["pages"] if page["page_idx"] in indices]
    return {**document, "pages": chosen, "is_full_document": len(chosen) == len(document["pages"])}


def as_image(document: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """One recorded page as MinerU answers for an image (a one-page file: ``page_idx`` 0)."""
    page = next(page for page in document["pages"] if page["page_idx"] == index)
    return {**document, "pages": [{**page, "page_idx": 0}], "is_full_document": True}


def selected_indices(page_range: str, count: int) -> list[int]:
    if not page_range:
        return list(range(count))
    indices: list[int] = []
    for part in page_range.split(","):
        first, _, last = part.partition("-")
        indices.extend(range(int(first) - 1, int(last or first)))
    return indices


class StandInParser:
    """Plays MinerU in the backend's seam with a recorded document: a PDF gets the pages its
    ``page_range`` selects (numbered by their index in the file, as MinerU does), an image the
    recording's first page. Each call is recorded with what the file looked like while MinerU had it.

    ``missing`` maps MinerU's deployment tiers (``basic``, ``standard``) to why their models are
    missing; a tier needs them as :func:`backends.mineru_backend.models.deployment_tier` says.
    """

    def __init__(
        self,
        document: dict[str, Any] | None = None,
        *,
        missing: dict[str, str] | None = None,
        fail: Exception | None = None,
        delay: float = 0.0,
    ) -> None:
        self.document = document or recorded()
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

    def missing_models(self, tier: str, *, ocr: bool) -> str | None:
        deployment = deployment_tier(tier, ocr=ocr)  # type: ignore[arg-type]
        return self.missing.get(deployment) if deployment else None

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
            if not data.startswith(b"%PDF"):
                return ParseResult.from_dict(as_image(self.document))
            if data == WARMUP_PDF:  # load()'s warm-up: MinerU's recorded answer to it
                return ParseResult.from_dict(recorded("warmup"))
            indices = selected_indices(page_range, len(self.document["pages"]))
            return ParseResult.from_dict(pages_of(self.document, indices))
        finally:
            with self._lock:
                self.active -= 1
