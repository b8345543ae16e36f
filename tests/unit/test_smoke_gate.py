"""The smoke gate (deployment/smoke_gate.py): judging, the results file, and run_gate against a fake
orchestrator on loopback that answers right, wrong, with an error, or with too few PDF pages."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from deployment import smoke_gate
from deployment.plan import Plan, PlanError, make_plan
from deployment.smoke_gate import IMAGE_LINES, PDF_PAGES, Check
from shared.catalogue import parse_catalogue

# -- a plan with test backends ---------------------------------------------------------------------

BACKENDS = {
    "good": (0.10, True),
    "garbage": (0.10, False),
    "down": (0.10, False),
    "short": (0.10, True),
    "html": (0.10, False),
    "slow": (0.10, False),
    "close": (0.05, False),
}


def gate_plan() -> Plan:
    tables: dict[str, Any] = {}
    for port, (name, (limit, pdf)) in enumerate(BACKENDS.items(), start=7001):
        tables[name] = {
            "env_prefix": name.upper(),
            "port": port,
            "device": "cpu",
            "app": "x:app",
            "package": "x",
            "without_gpu": True,
            "container_image": "x",
            "smoke_max_cer": limit,
            "smoke_pdf": pdf,
        }
    catalogue = parse_catalogue(
        {
            "defaults": {
                "default_backend": "good",
                "slice_pages": 1,
                "pdf_concurrency": 2,
                "backend_host": "127.0.0.1",
                "main_venv": ".venv",
                "main_extras": [],
                "smoke_max_cer": 0.1,
            },
            "orchestrator": {
                "port": 7000,
                "internal_port": 6999,
                "host": "127.0.0.1",
                "app": "x:app",
                "gunicorn_config": "x",
                "package": "x",
                "container_image": "x",
            },
            "backends": tables,
        }
    )
    return make_plan({"FRONT": "nginx", "NGINX": "/usr/sbin/nginx"}, catalogue, read_service_env=False)


# -- the fake orchestrator -------------------------------------------------------------------------


def page(markdown: str, number: int = 1) -> dict[str, Any]:
    return {"page": number, "width": 10, "height": 10, "markdown": markdown, "blocks": [], "warnings": []}


def success(pages: list[str]) -> dict[str, Any]:
    return {
        "success": True,
        "markdown": "\n\n---\n\n".join(pages),
        "pages": [page(text, n) for n, text in enumerate(pages, start=1)],
    }


# The right text as a backend might mark it up: a heading, bold, escaped punctuation.
MARKED_UP = "# " + IMAGE_LINES[0].replace("$", "\\$") + "\n\n**" + IMAGE_LINES[1] + "**\n\n" + IMAGE_LINES[2]
RIGHT_PDF = ["\n".join(lines) for lines in PDF_PAGES]


class FakeOrchestrator(BaseHTTPRequestHandler):
    requests: list[dict[str, str]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def fields(self, body: bytes) -> dict[str, str]:
        found = re.findall(rb'name="(\w+)"\r\n\r\n(.*?)\r\n--', body, re.DOTALL)
        return {key.decode(): value.decode() for key, value in found if key != b"file"}

    def answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        fields = self.fields(body)
        is_pdf = b"%PDF" in body
        FakeOrchestrator.requests.append({**fields, "path": self.path, "kind": "pdf" if is_pdf else "image"})
        backend = fields.get("backend")
        if backend == "down":
            error = {"success": False, "error": {"code": "backend_unavailable", "message": "down is\nloading"}}
            return self.answer(503, json.dumps(error).encode())
        if backend == "html":
            return self.answer(502, b"<html>bad gateway</html>", "text/html")
        if backend == "slow":
            time.sleep(3)
        if backend == "garbage":
            result = success(["xq zz 00"])
        elif backend == "close":  # 1 character wrong in the image: about 0.6%
            result = success([MARKED_UP.replace("Invoice", "Invoise")])
        elif is_pdf:
            result = success(RIGHT_PDF[:1] if backend == "short" else RIGHT_PDF)
        else:
            result = success([MARKED_UP])
        self.answer(200, json.dumps(result).encode())


@pytest.fixture
def orchestrator() -> Iterator[str]:
    FakeOrchestrator.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOrchestrator)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


# -- markup and judging ----------------------------------------------------------------------------


def test_strip_markup_removes_headings_stars_and_escapes_only():
    assert smoke_gate.strip_markup("# Title\n## Sub \\$5\n**bold** and *it*") == "Title\nSub $5\nbold and it"
    assert smoke_gate.strip_markup("a # b, 1\\.5 - x_y (c)") == "a # b, 1.5 - x_y (c)"


def test_judge_is_zero_for_marked_up_right_text_and_high_for_garbage():
    reference = "\n".join(IMAGE_LINES)
    assert smoke_gate.judge("image", reference, MARKED_UP).cer == 0.0
    assert smoke_gate.judge("image", reference, "xq zz").cer > 0.9


def test_verdict_passes_at_the_limit_and_fails_above_it():
    at_limit = smoke_gate.verdict([Check("image", cer=0.10)], 0.10)
    above = smoke_gate.verdict([Check("image", cer=0.1001, got="xq")], 0.10)
    assert at_limit["passed"] is True and at_limit["cer"] == 0.10
    assert above["passed"] is False
    assert above["detail"] == 'image CER 10.0% > limit 10% (got: "xq")'


def test_verdict_worst_cer_errors_and_no_checks():
    result = smoke_gate.verdict(
        [Check("image", cer=0.01), Check("pdf page 1", cer=0.04), Check("pdf page 2", cer=0.02)], 0.10
    )
    assert result["passed"] and result["cer"] == 0.04
    assert result["detail"] == "CER image 1.0%, pdf 4.0%/2.0%; limit 10%"
    failed = smoke_gate.verdict([Check("image", cer=0.0), Check("pdf", error="HTTP 500 x: y")], 0.10)
    assert not failed["passed"] and failed["cer"] == 0.0 and failed["detail"] == "pdf: HTTP 500 x: y"
    assert failed["checks"][1] == {"input": "pdf", "cer": None, "error": "HTTP 500 x: y"}
    assert smoke_gate.verdict([], 0.10)["passed"] is False


def test_limits_come_from_the_catalogue_with_a_default_for_others():
    plan = gate_plan()
    assert smoke_gate.limits_for(plan, "close") == smoke_gate.Limits(0.05, False)
    assert smoke_gate.limits_for(plan, "good") == smoke_gate.Limits(0.10, True)
    assert smoke_gate.limits_for(plan, "unlisted") == smoke_gate.Limits(plan.catalogue.smoke_max_cer, False)


def test_rendered_documents_are_a_png_and_a_two_page_pdf():
    import pymupdf

    assert smoke_gate.render_image(["Hello 1"]).startswith(b"\x89PNG")
    with pymupdf.open(stream=smoke_gate.render_pdf(PDF_PAGES), filetype="pdf") as document:
        assert document.page_count == 2
        assert "Order 5531" in document[0].get_text() and "returns" in document[1].get_text()


# -- the results file ------------------------------------------------------------------------------


def test_write_merges_and_read_returns_the_backends(tmp_path: Path):
    path = tmp_path / "run" / "smoke.json"
    smoke_gate.write_results(path, {"a": {"passed": True, "detail": "1"}, "b": {"passed": False, "detail": "2"}})
    smoke_gate.write_results(path, {"b": {"passed": True, "detail": "3", "orchestrator": "http://o"}})
    data = json.loads(path.read_text())
    assert data["orchestrator"] == "http://o" and isinstance(data["at"], float)
    assert smoke_gate.read_results(path) == {
        "a": {"passed": True, "detail": "1"},
        "b": {"passed": True, "detail": "3", "orchestrator": "http://o"},
    }
    assert [p.name for p in path.parent.iterdir()] == ["smoke.json"]  # no temporary file left


@pytest.mark.parametrize("content", [None, "", "{not json", "[1, 2]", '{"backends": [1]}', '{"at": 1}'])
def test_read_results_is_empty_for_missing_or_corrupt_files(tmp_path: Path, content: str | None):
    path = tmp_path / "smoke.json"
    if content is not None:
        path.write_text(content)
    assert smoke_gate.read_results(path) == {}


def test_write_over_a_corrupt_file_replaces_it(tmp_path: Path):
    path = tmp_path / "smoke.json"
    path.write_text("{broken")
    smoke_gate.write_results(path, {"a": {"passed": True}})
    assert smoke_gate.read_results(path) == {"a": {"passed": True}}


def test_format_cell_is_one_token():
    assert smoke_gate.format_cell(None) == "-"
    assert smoke_gate.format_cell({"passed": True}) == "pass"
    assert smoke_gate.format_cell({"passed": False, "detail": "image CER 90% > limit 10%"}) == "FAIL"
    assert smoke_gate.format_cell({}) == "FAIL"


# -- run_gate through the fake orchestrator --------------------------------------------------------


def test_run_gate_judges_each_backend(orchestrator: str):
    results = smoke_gate.run_gate(
        gate_plan(), ["good", "garbage", "down", "short"], orchestrator_url=orchestrator, timeout=10
    )
    assert list(results) == ["good", "garbage", "down", "short"]
    good = results["good"]
    assert good["passed"] is True and good["cer"] == 0.0
    assert [c["input"] for c in good["checks"]] == ["image", "pdf page 1", "pdf page 2"]
    assert good["detail"] == "CER image 0.0%, pdf 0.0%/0.0%; limit 10%"
    assert good["orchestrator"] == orchestrator

    garbage = results["garbage"]
    assert garbage["passed"] is False and garbage["cer"] > 0.9
    assert garbage["detail"].startswith("image CER ") and '(got: "xq zz 00")' in garbage["detail"]
    assert [c["input"] for c in garbage["checks"]] == ["image"]  # smoke_pdf = false: no PDF

    down = results["down"]
    assert down["passed"] is False and down["cer"] is None
    assert down["detail"] == "image: HTTP 503 backend_unavailable: down is loading"

    short = results["short"]
    assert short["passed"] is False and short["cer"] == 0.0
    assert short["detail"] == "pdf: 1 page(s) came back, not 2"


def test_run_gate_sends_cache_false_and_pdf_mode_ocr(orchestrator: str):
    smoke_gate.run_gate(gate_plan(), ["good"], orchestrator_url=orchestrator + "/", timeout=10)
    sent = sorted(FakeOrchestrator.requests, key=lambda r: r["kind"])
    assert [r["path"] for r in sent] == ["/ocr", "/ocr"]
    assert sent[0]["kind"] == "image" and "pdf_mode" not in sent[0]
    assert sent[1]["kind"] == "pdf" and sent[1]["pdf_mode"] == "ocr"
    assert all(r["cache"] == "false" and r["backend"] == "good" for r in sent)


def test_run_gate_uses_each_backends_own_limit(orchestrator: str):
    # The one wrong character is about 0.6%: within good's 10%, not within a limit of 0.5%.
    close = smoke_gate.run_gate(gate_plan(), ["close"], orchestrator_url=orchestrator, timeout=10)["close"]
    assert close["passed"] is True and 0 < close["cer"] < 0.01
    plan = gate_plan()
    plan.catalogue.backends["close"] = dataclasses.replace(plan.catalogue.backends["close"], smoke_max_cer=0.005)
    result = smoke_gate.run_gate(plan, ["close"], orchestrator_url=orchestrator, timeout=10)["close"]
    assert result["passed"] is False and "> limit 0.5%" in result["detail"]


def test_non_json_timeout_and_unreachable_are_one_line_failures(orchestrator: str):
    results = smoke_gate.run_gate(gate_plan(), ["html", "slow"], orchestrator_url=orchestrator, timeout=0.5)
    assert results["html"]["detail"].startswith("image: HTTP 502: the answer is not JSON ('<html>")
    assert results["slow"]["detail"] == "image: no answer within 0.5 s"
    gone = smoke_gate.run_gate(gate_plan(), ["good"], orchestrator_url="http://127.0.0.1:9", timeout=5)["good"]
    assert gone["passed"] is False and gone["cer"] is None
    assert gone["detail"].startswith("image: cannot reach the orchestrator at http://127.0.0.1:9")
    assert "pdf: cannot reach" in gone["detail"]
    for result in [*results.values(), gone]:
        assert "\n" not in result["detail"]


def test_run_gate_defaults_to_the_plans_orchestrator(monkeypatch: pytest.MonkeyPatch):
    seen: list[str] = []
    monkeypatch.setattr(smoke_gate, "check_backend", lambda url, name, limits, timeout: seen.append(url) or {})
    smoke_gate.run_gate(gate_plan(), ["good"])
    assert seen == ["http://127.0.0.1:7000"]
    assert smoke_gate.run_gate(gate_plan(), []) == {}


# -- the command -----------------------------------------------------------------------------------


def test_main_prints_a_line_per_backend_writes_the_file_and_exits(
    orchestrator: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setattr(smoke_gate, "make_plan", gate_plan)
    out = tmp_path / "smoke.json"
    assert smoke_gate.main(["--backend", "good", "--orchestrator", orchestrator, "--out", str(out)]) == 0
    assert capsys.readouterr().out == "good: smoke pass (CER image 0.0%, pdf 0.0%/0.0%; limit 10%)\n"
    code = smoke_gate.main(["--backend", "garbage", "--orchestrator", orchestrator, "--out", str(out), "--wait", "0.1"])
    assert code == 1
    assert capsys.readouterr().out.startswith("garbage: smoke FAILED: image CER ")
    results = smoke_gate.read_results(out)
    assert {name: smoke_gate.format_cell(r) for name, r in results.items()} == {"good": "pass", "garbage": "FAIL"}


def test_main_usage_and_configuration_errors_exit_2(monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(SystemExit) as raised:
        smoke_gate.main(["--timeout", "soon"])
    assert raised.value.code == 2

    def broken_plan() -> Plan:
        raise PlanError("RAPIDOCR_PORT must be a whole number")

    monkeypatch.setattr(smoke_gate, "make_plan", broken_plan)
    assert smoke_gate.main([]) == 2
