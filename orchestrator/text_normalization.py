"""How a text is normalised before it is scored against its ground truth: one function per step,
chosen by flags, every result stating which ran. Steps run in a fixed order: markdown syntax first
(it needs the line structure), then Unicode, case and whitespace."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields

from shared.errors import InvalidOption

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3}|~~)(?=\S)(.+?)(?<=\S)\1")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|>)\s+", re.MULTILINE)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_CODE = re.compile(r"`+")


def strip_markdown(text: str) -> str:
    """Markdown syntax out, its text kept: headings' ``#``, emphasis, table pipes and rules, list and
    quote markers, code ticks, backslash escapes and HTML tags (a backend's ``<table>`` cells stay as text)."""
    text = _HTML_TAG.sub(" ", text)
    text = _TABLE_RULE.sub("", text)
    text = _HEADING.sub("", text)
    text = _LIST_MARKER.sub("", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _CODE.sub("", text)
    text = text.replace("|", " ")
    return _ESCAPE.sub(r"\1", text)


def fold_unicode(text: str) -> str:
    """NFKC: compatibility forms as their plain letters (ligatures, full-width digits, ``ﬁ`` → ``fi``)."""
    return unicodedata.normalize("NFKC", text)


def fold_case(text: str) -> str:
    return text.casefold()


def collapse_whitespace(text: str) -> str:
    """Runs of spaces and line breaks as one space; none at either end."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Normalization:
    """Which steps run; all by default."""

    markdown: bool = True
    unicode: bool = True
    case: bool = True
    whitespace: bool = True

    def apply(self, text: str) -> str:
        for name, step in STEPS.items():
            if getattr(self, name):
                text = step(text)
        return text

    def to_json(self) -> dict[str, bool]:
        return asdict(self)

    @classmethod
    def parse(cls, spec: str | None) -> Normalization:
        """``all`` (default), ``none``, or a comma list of the steps to run (``case,whitespace``);
        ``-name`` turns one step off from all (``-case``)."""
        names = [part.strip().lower() for part in (spec or "all").split(",") if part.strip()]
        if names in ([], ["all"]):
            return cls()
        if names == ["none"]:
            return cls(**dict.fromkeys(STEPS, False))
        known = set(STEPS)
        bare = {name.lstrip("-") for name in names}
        if bare - known:
            raise InvalidOption(
                f"normalization: unknown step(s) {', '.join(sorted(bare - known))}; steps: {', '.join(STEPS)} "
                "(or all, none, -step)"
            )
        negative = [name.startswith("-") for name in names]
        if any(negative) and not all(negative):
            raise InvalidOption("normalization: name the steps to run, or only -steps to leave out, not both")
        if all(negative):
            return cls(**{name: name not in bare for name in STEPS})
        return cls(**{name: name in bare for name in STEPS})

    @classmethod
    def from_json(cls, flags: Mapping[str, bool]) -> Normalization:
        return cls(**{f.name: bool(flags.get(f.name, True)) for f in fields(cls)})


#: The steps in the order they run.
STEPS: dict[str, Callable[[str], str]] = {
    "markdown": strip_markdown,
    "unicode": fold_unicode,
    "case": fold_case,
    "whitespace": collapse_whitespace,
}
