"""The smoke gate (deployment/smoke) against real processes: the rapidocr backend passes it; a
backend whose model loads but reads garbage fails it, although its /health says all is well."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from deployment import smoke_gate
from tests.support import garbage_backend
from tests.support.processes import REPO_ROOT, Service, start_backend, start_orchestrator, wait_healthy

pytestmark = pytest.mark.integration

SMOKE = REPO_ROOT / "deployment" / "smoke"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Service, Service]]:
    logs = tmp_path_factory.mktemp("smoke-logs")
    rapidocr = start_backend("rapidocr", logs)
    garbage = start_backend("garbage", logs, app=garbage_backend.APP)
    orchestrator = start_orchestrator({"rapidocr": rapidocr.url, "garbage": garbage.url}, logs)
    try:
        wait_healthy(rapidocr)
        wait_healthy(garbage)
        wait_healthy(orchestrator, need_model=False)
        yield rapidocr, garbage, orchestrator
    finally:
        orchestrator.stop()
        garbage.stop()
        rapidocr.stop()


def smoke(orchestrator: Service, backend: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(SMOKE),
            "--backend",
            backend,
            "--orchestrator",
            orchestrator.url,
            "--out",
            str(out),
            "--wait",
            "60",
            "--timeout",
            "120",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_rapidocr_passes_and_garbage_fails(services: tuple[Service, Service, Service], tmp_path: Path):
    _, garbage, orchestrator = services
    out = tmp_path / "smoke.json"

    passed = smoke(orchestrator, "rapidocr", out)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.startswith("rapidocr: smoke pass (CER image "), passed.stdout
    result = smoke_gate.read_results(out)["rapidocr"]
    assert result["passed"] is True and result["cer"] < 0.05, result
    assert [check["input"] for check in result["checks"]] == ["image", "pdf page 1", "pdf page 2"]
    assert all(check["error"] is None for check in result["checks"])

    assert requests.get(garbage.url + "/health", timeout=5).json()["model_loaded"] is True
    failed = smoke(orchestrator, "garbage", out)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert failed.stdout.startswith("garbage: smoke FAILED: image CER "), failed.stdout
    assert '(got: "lorem qwzx 0000")' in failed.stdout
    results = smoke_gate.read_results(out)
    assert {name: smoke_gate.format_cell(r) for name, r in results.items()} == {"rapidocr": "pass", "garbage": "FAIL"}
    assert results["garbage"]["cer"] > 0.5


def test_a_backend_the_orchestrator_does_not_know_fails_with_its_error(
    services: tuple[Service, Service, Service], tmp_path: Path
):
    _, _, orchestrator = services
    out = tmp_path / "smoke.json"
    result = smoke(orchestrator, "nonesuch", out)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("nonesuch: smoke FAILED: image: HTTP 400 "), result.stdout
    assert smoke_gate.format_cell(smoke_gate.read_results(out).get("nonesuch")) == "FAIL"
