"""An evaluation's scores: one document through one backend against its ground truth, and the
leaderboard over them, per backend, per kind and overall. Micro averages pool the edits and lengths
of every document (long pages weigh more); macro averages are the mean of the documents' rates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from statistics import mean
from typing import Any

from orchestrator.text_metrics import TextCounts
from orchestrator.text_normalization import Normalization

RATES = ("cer", "wer", "word_f1")


def score(reference: str, hypothesis: str, normalization: Normalization) -> TextCounts:
    """The counts of ``hypothesis`` against ``reference``, both normalised the same way."""
    return TextCounts.of(normalization.apply(reference), normalization.apply(hypothesis))


@dataclass(frozen=True)
class Scored:
    """One document × backend: its counts (``None`` when the backend failed it) and its time."""

    document: str
    kind: str
    backend: str
    counts: TextCounts | None
    pages: int
    seconds: float
    error: dict[str, Any] | None = None
    cached: bool = False

    def to_json(self) -> dict[str, Any]:
        rates = _rates(self.counts) if self.counts else dict.fromkeys(RATES)
        return {
            "document": self.document,
            "kind": self.kind,
            "backend": self.backend,
            **rates,
            "pages": self.pages,
            "seconds": round(self.seconds, 4),
            "seconds_per_page": round(self.seconds / self.pages, 4) if self.pages else None,
            "cached": self.cached,
            "error": self.error,
        }


def _rates(counts: TextCounts) -> dict[str, float | None]:
    return {"cer": counts.cer, "wer": counts.wer, "word_f1": counts.word_f1}


def _micro(rows: list[Scored]) -> dict[str, float | None]:
    counts = [row.counts for row in rows if row.counts is not None]
    if not counts:
        return dict.fromkeys(RATES)
    return _rates(reduce(lambda a, b: a + b, counts))


def _macro(rows: list[Scored]) -> dict[str, float | None]:
    each = [_rates(row.counts) for row in rows if row.counts is not None]
    return {rate: round(mean(float(r[rate] or 0.0) for r in each), 4) if each else None for rate in RATES}


def leaderboard(rows: Iterable[Scored], backends: list[str]) -> list[dict[str, Any]]:
    """One entry per backend, best micro CER first (backends with nothing scored last)."""
    by_backend: dict[str, list[Scored]] = {name: [] for name in backends}
    for row in rows:
        by_backend.setdefault(row.backend, []).append(row)
    board = []
    for backend, done in by_backend.items():
        scored = [row for row in done if row.counts is not None]
        seconds = sum(row.seconds for row in scored)
        pages = sum(row.pages for row in scored)
        kinds: dict[str, list[Scored]] = {}
        for row in scored:
            kinds.setdefault(row.kind, []).append(row)
        board.append(
            {
                "backend": backend,
                "documents": len(scored),
                "failed": len(done) - len(scored),
                **_micro(scored),
                "macro": _macro(scored),
                "pages_per_second": round(pages / seconds, 4) if seconds > 0 else None,
                "by_kind": {kind: {"documents": len(group), **_micro(group)} for kind, group in sorted(kinds.items())},
            }
        )
    return sorted(board, key=lambda entry: (entry["cer"] is None, entry["cer"] or 0.0))
