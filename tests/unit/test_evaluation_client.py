"""The client's and the command's evaluations against an orchestrator served in this process with a
stand-in backend: a folder uploaded as one zip, events, the leaderboard printed, exports written,
mistakes as exit statuses."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from ocr_client import OCRClient, cli
from ocr_client.errors import BadInput
from orchestrator import create_app
from orchestrator.config import OrchestratorConfig
from orchestrator.sample_set import write
from tests.support import standin_http


@pytest.fixture
def service(tmp_path):
    backend = standin_http.serve("delayed", delay=0)
    config = OrchestratorConfig(
        backends={"delayed": [f"http://127.0.0.1:{backend.server_port}"]},
        default_backend="delayed",
        data_dir=tmp_path / "data",
    )
    server = standin_http.serve_wsgi(create_app(config, monitor=False))
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    backend.shutdown()


def test_evaluate_a_folder_with_events_and_exports(service, tmp_path):
    folder = tmp_path / "set"
    write(folder)
    client = OCRClient(service)
    accepted = client.evaluate(folder, ["delayed"], normalization="all")
    assert accepted["status"] == "queued"
    events = list(client.evaluation_events(accepted["id"]))
    assert [e.type for e in events].count("result") == 4 and events[-1].type == "end"
    evaluation = client.evaluation(accepted["id"])
    assert evaluation["status"] == "done" and {d["kind"] for d in evaluation["documents"]} == {
        "letter",
        "receipt",
        "table",
        "two-column",
    }
    rows = list(csv.DictReader(io.StringIO(client.export_evaluation(accepted["id"], "csv").decode())))
    assert len(rows) == 4
    assert json.loads(client.export_evaluation(accepted["id"], "json"))["id"] == accepted["id"]
    assert [e["id"] for e in client.evaluations()] == [accepted["id"]]


def test_evaluate_needs_a_set():
    with pytest.raises(BadInput):
        OCRClient("http://127.0.0.1:9").evaluate()


def test_the_command_prints_the_leaderboard_and_exports(service, tmp_path, capsys):
    out_csv = tmp_path / "out.csv"
    status = cli.main(["--url", service, "evaluate", "--sample", "--backends", "delayed", "--export", str(out_csv)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "leaderboard" in captured.out and "delayed" in captured.out
    assert out_csv.read_text().startswith("document,kind,backend,cer")


def test_the_command_with_a_folder_as_json(service, tmp_path, capsys):
    write(tmp_path / "set")
    assert cli.main(["--url", service, "evaluate", str(tmp_path / "set"), "--json", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "done"


def test_the_command_s_mistakes(service, tmp_path, capsys):
    exit_bad_input = next(status for status, cls, _ in cli.EXIT_CODES if cls is BadInput)
    assert cli.main(["--url", service, "evaluate"]) == exit_bad_input  # neither DIR nor --sample
    assert cli.main(["--url", service, "evaluate", str(tmp_path / "missing")]) == exit_bad_input
    assert cli.main(["--url", service, "evaluate", "--sample", "--backends", "nope"]) == exit_bad_input
    assert "unknown backend" in capsys.readouterr().err


def test_the_command_names_each_failure_with_its_code_and_message(tmp_path, capsys):
    """A failed document × backend is printed with its error's code and message (the code in
    brackets once vanished: rich read "[bad_backend_response]" as a style tag)."""
    backend = standin_http.serve("broken", delay=0)
    config = OrchestratorConfig(
        backends={"broken": [f"http://127.0.0.1:{backend.server_port}"]},
        default_backend="broken",
        data_dir=tmp_path / "data",
    )
    server = standin_http.serve_wsgi(create_app(config, monitor=False))
    try:
        cli.main(["--url", f"http://127.0.0.1:{server.port}", "evaluate", "--sample", "--no-progress"])
        out = capsys.readouterr().out
    finally:
        server.shutdown()
        backend.shutdown()
    failures = re.findall(r"^broken failed (\S+): \[([a-z_]+)\] (\S.*)$", out, re.M)
    assert sorted(document for document, _, _ in failures) == ["letter", "receipt", "table", "two-columns"], out
    assert all(code and message for _, code, message in failures)
