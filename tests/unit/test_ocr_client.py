"""The client and the command without a service: the console script's entry point, the typed
answers against the contract, errors classed by the registry, event parsing, command-line mistakes."""

from __future__ import annotations

import importlib
import sys
import typing

import pytest

from ocr_client import cli
from ocr_client.errors import EXIT_CODES, BackendDown, BadInput, OCRServiceError, ServiceTimeout, from_error
from ocr_client.models import (
    BackendsList,
    ComparisonResult,
    Evaluation,
    EvaluationAccepted,
    EvaluationResult,
    JobList,
    JobStatus,
    JobSummary,
    OCRResult,
    PdfPreview,
)
from ocr_client.sse import parse_events
from shared.api_contract import load_schema
from shared.errors import ERROR_CODES
from tests.support.processes import REPO_ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_the_console_script_is_a_real_callable():
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["ocr-service"].partition(":")
    entry = getattr(importlib.import_module(module), name)
    assert callable(entry) and entry is cli.main


@pytest.mark.parametrize(
    ("typed", "definition"),
    [
        (OCRResult, "ocr_result_fields"),
        (ComparisonResult, "comparison_result_fields"),
        (JobStatus, "job_status"),
        (BackendsList, "backends_list"),
        (Evaluation, "evaluation"),
        (EvaluationAccepted, "evaluation_accepted"),
        (EvaluationResult, "evaluation_result"),
        (JobList, "job_list"),
        (JobSummary, "job_summary"),
        (PdfPreview, "pdf_preview"),
    ],
)
def test_typed_answers_have_the_contracts_keys(typed, definition):
    schema = load_schema()["$defs"][definition]
    assert typed.__required_keys__ == set(schema["required"])
    assert set(typing.get_type_hints(typed)) <= set(schema["properties"])


def test_every_registered_code_has_its_class():
    for code, entry in ERROR_CODES.items():
        error = from_error({"code": code, "message": "m", "retryable": entry.retryable}, entry.status)
        assert (error.code, error.status, error.retryable) == (code, entry.status, entry.retryable)
        if entry.status == 503:
            assert isinstance(error, BackendDown)
        elif entry.status == 504:
            assert isinstance(error, ServiceTimeout)
        elif entry.status in (400, 404, 405, 413, 415, 422):
            assert isinstance(error, BadInput)


def test_an_unknown_code_is_classed_by_its_status():
    assert type(from_error({"code": "new_code", "message": "m"}, 504)) is ServiceTimeout
    assert type(from_error("not an object", 502)) is OCRServiceError
    assert str(from_error({"code": "x", "message": "why"}, 400)) == "[x] why"


def test_exit_statuses_are_distinct_and_in_the_help(capsys):
    statuses = [status for status, _, _ in EXIT_CODES]
    assert len(statuses) == len(set(statuses))
    classes = [kind for _, kind, _ in EXIT_CODES if kind is not None]
    assert all(kind.exit_code == status for status, kind, _ in EXIT_CODES if kind is not None)
    assert len(classes) == len({kind.exit_code for kind in classes})
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    for _, _, meaning in EXIT_CODES:
        assert meaning in text


def test_the_readme_lists_the_exit_statuses():
    readme = (REPO_ROOT / "README.md").read_text()
    for status, _, meaning in EXIT_CODES:
        assert f"| {status} | {meaning} |" in readme


def test_events_are_parsed_as_a_browser_does():
    lines = [
        ": keep-alive",
        "",
        "id: 1",
        "event: progress",
        'data: {"backend": "rapidocr", "pages_done": 0, "pages_total": 2}',
        "",
        "event: end",
        'data: {"status": "succeeded"}',
        "",
    ]
    events = list(parse_events(lines))
    assert [(e.id, e.type) for e in events] == [(1, "progress"), (None, "end")]
    assert events[1].data == {"status": "succeeded"}


def test_command_line_mistakes(capsys, tmp_path):
    with pytest.raises(SystemExit) as usage:
        cli.main(["ocr"])
    assert usage.value.code == 2
    page = tmp_path / "page.png"
    page.write_bytes(b"\x89PNG")
    assert cli.main(["--url", "http://127.0.0.1:9", "ocr", str(page), "-O", "novalue"]) == BadInput.exit_code
    assert "NAME=VALUE" in capsys.readouterr().err
    assert cli.main(["ocr", str(tmp_path / "missing.png")]) == BadInput.exit_code
    assert "cannot read" in capsys.readouterr().err
    reference = ["compare", str(page), "--reference", str(tmp_path / "missing.txt")]
    assert cli.main(reference) == BadInput.exit_code


def test_markdown_of_a_comparison_job():
    job = {
        "result": {
            "results": {
                "a": {"success": True, "markdown": "text"},
                "b": {"success": False, "error": {"code": "backend_unavailable", "message": "down"}},
            }
        }
    }
    assert cli.job_markdown(job) == "## a\n\ntext\n\n## b\n\n(error [backend_unavailable] down)"
