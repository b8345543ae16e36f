"""How alike two texts are: agreement between backends, error rates against a reference.

Texts are compared after whitespace is collapsed (line breaks and spacing differ between models
without the reading being different); markdown markup is left in, since it is part of each
backend's answer.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from rapidfuzz.distance import Levenshtein


def normalise(text: str) -> str:
    return " ".join(text.split())


def agreement(a: str, b: str) -> float:
    """1 − normalised edit distance: 1.0 for the same text, 0.0 for nothing in common."""
    return round(1.0 - Levenshtein.normalized_distance(normalise(a), normalise(b)), 4)


def character_error_rate(reference: str, hypothesis: str) -> float:
    reference, hypothesis = normalise(reference), normalise(hypothesis)
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return round(Levenshtein.distance(reference, hypothesis) / len(reference), 4)


def word_error_rate(reference: str, hypothesis: str) -> float:
    words, guessed = reference.split(), hypothesis.split()
    if not words:
        return 0.0 if not guessed else 1.0
    return round(Levenshtein.distance(words, guessed) / len(words), 4)


def pairwise_agreement(texts: dict[str, str]) -> list[dict[str, Any]]:
    """Agreement of every pair of backends that produced a text, in the order given."""
    return [{"backends": [a, b], "agreement": agreement(texts[a], texts[b])} for a, b in combinations(texts, 2)]
