"""One registry of error codes (shared/errors.py): every code the service can answer with is in it,
with its status and retryable flag, and the README's error table is the registry's."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from shared.errors import ERROR_CODES, OCRError, markdown_table

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    path for folder in ("shared", "orchestrator", "backends", "deployment") for path in (ROOT / folder).rglob("*.py")
)
CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def literal_codes(tree: ast.AST) -> set[str]:
    """Codes written as literals: ``{"code": "..."}`` and ``code="..."`` anywhere in the code."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "code" and isinstance(value, ast.Constant):
                    found.add(value.value)
        elif isinstance(node, ast.keyword) and node.arg == "code" and isinstance(node.value, ast.Constant):
            found.add(node.value.value)
    return found


def error_classes(tree: ast.AST) -> list[str]:
    """Classes that derive from an error class by name (``...Error``, ``OCRError`` and its kin)."""
    return [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(isinstance(base, ast.Name) and base.id in ERROR_CLASS_NAMES for base in node.bases)
    ]


ERROR_CLASS_NAMES = {cls.__name__ for cls in (OCRError, *OCRError.__subclasses__())}


def test_the_scan_finds_codes_written_as_literals():
    sample = 'error = {"code": "made_up", "message": "m"}\nraise_it(code="also_made_up")'
    assert literal_codes(ast.parse(sample)) == {"made_up", "also_made_up"}


def test_every_code_written_anywhere_is_registered():
    written = {code for path in SOURCES for code in literal_codes(ast.parse(path.read_text(), str(path)))}
    assert written - set(ERROR_CODES) == set()


def test_every_error_class_lives_in_the_registry_module():
    elsewhere = {
        str(path.relative_to(ROOT)): names
        for path in SOURCES
        if path.name != "errors.py"
        if (names := error_classes(ast.parse(path.read_text(), str(path))))
    }
    assert elsewhere == {}


def test_every_error_class_is_registered_with_its_status_and_retry_flag():
    def all_subclasses(cls: type) -> list[type]:
        return [sub for direct in cls.__subclasses__() for sub in (direct, *all_subclasses(direct))]

    for cls in all_subclasses(OCRError):
        entry = ERROR_CODES[cls.code]
        assert (entry.status, entry.retryable) == (cls.status, cls.retryable), cls
        assert CODE.match(cls.code) and 400 <= cls.status < 600 and entry.meaning, cls
    assert ERROR_CODES["internal_error"].status == 500


@pytest.mark.parametrize(
    "code",
    [
        "malformed_form",
        "overloaded",
        "rate_limited",
        "unauthorized",
        "job_not_found",
        "inference_timeout",
        "no_healthy_backend",
        "orchestrator_restarted",
    ],
)
def test_codes_the_old_readme_table_lacked_are_registered(code):
    assert code in ERROR_CODES


def test_the_readme_error_table_is_the_registry():
    readme = (ROOT / "README.md").read_text()
    table = markdown_table()
    assert table in readme, "README's error table is stale: paste the output of `python -m shared.errors`"
    for code in ERROR_CODES:
        assert readme.count(f"| `{code}` |") == 1, code
