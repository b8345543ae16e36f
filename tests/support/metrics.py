"""Reading Prometheus exposition text (prometheus-client's own parser) in tests."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """``{(sample name, frozenset(labels.items())): value}``."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels`` (0 when there is none)."""
    wanted = set(labels.items())
    return sum(v for (sample, have), v in samples(text).items() if sample == name and wanted <= have)


def names(text: str) -> set[str]:
    return {sample for sample, _ in samples(text)}
