"""How alike two texts are: agreement between backends, error rates against a reference.

Texts are compared after whitespace is collapsed (line breaks and spacing differ between models
without the reading being different); markdown markup is left in, since it is part of each
backend's answer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
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


def word_f1(reference: str, hypothesis: str) -> float:
    """Order-free word F1: the words both have (with multiplicity) against each one's count."""
    return TextCounts.of(reference, hypothesis).word_f1


@dataclass(frozen=True)
class TextCounts:
    """What the rates of one text against its reference are made of, so several texts can be pooled
    (micro averages): edits and lengths in characters and in words, and the words both have
    (a bag of words: order-free)."""

    char_edits: int
    ref_chars: int
    word_edits: int
    ref_words: int
    common_words: int
    hyp_words: int

    @classmethod
    def of(cls, reference: str, hypothesis: str) -> TextCounts:
        words, guessed = reference.split(), hypothesis.split()
        return cls(
            char_edits=Levenshtein.distance(reference, hypothesis),
            ref_chars=len(reference),
            word_edits=Levenshtein.distance(words, guessed),
            ref_words=len(words),
            common_words=sum((Counter(words) & Counter(guessed)).values()),
            hyp_words=len(guessed),
        )

    def __add__(self, other: TextCounts) -> TextCounts:
        return TextCounts(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int, ...]:
        return (self.char_edits, self.ref_chars, self.word_edits, self.ref_words, self.common_words, self.hyp_words)

    @property
    def cer(self) -> float:
        return _rate(self.char_edits, self.ref_chars, self.char_edits)

    @property
    def wer(self) -> float:
        return _rate(self.word_edits, self.ref_words, self.hyp_words)

    @property
    def word_f1(self) -> float:
        if not self.ref_words or not self.hyp_words:
            return float(self.ref_words == self.hyp_words)
        if not self.common_words:
            return 0.0
        precision, recall = self.common_words / self.hyp_words, self.common_words / self.ref_words
        return round(2 * precision * recall / (precision + recall), 4)


def _rate(edits: int, length: int, guessed: int) -> float:
    """Edits per reference unit; an empty reference is 0 against nothing and 1 against anything."""
    if not length:
        return 0.0 if not guessed else 1.0
    return round(edits / length, 4)


def pairwise_agreement(texts: dict[str, str]) -> list[dict[str, Any]]:
    """Agreement of every pair of backends that produced a text, in the order given."""
    return [{"backends": [a, b], "agreement": agreement(texts[a], texts[b])} for a, b in combinations(texts, 2)]
