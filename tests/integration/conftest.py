"""Real processes on loopback: the rapidocr backend and the orchestrator, under gunicorn."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
import requests

from tests.support import standin_http
from tests.support.processes import UNREACHABLE_URL, Service, start_backend, start_orchestrator, wait_healthy

UPLOAD_LIMIT = 3_000_000


@dataclass
class System:
    backend: Service
    orchestrator: Service
    down_url: str

    @property
    def url(self) -> str:
        return self.orchestrator.url


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    logs = tmp_path_factory.mktemp("logs")
    limits = {"OCR_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT)}
    backend = start_backend("rapidocr", logs, env=limits)
    down_url = UNREACHABLE_URL  # nothing listens here: mineru is "not running"
    orchestrator = start_orchestrator(
        {"rapidocr": backend.url, "mineru": down_url, "deepseek-ocr": UNREACHABLE_URL},
        logs,
        env={**limits, "CORS_ORIGINS": "http://allowed.example"},
    )
    try:
        wait_healthy(backend)
        wait_healthy(orchestrator, need_model=False)
        yield System(backend, orchestrator, down_url)
    finally:
        orchestrator.stop()
        backend.stop()


@pytest.fixture(scope="session")
def faulty_system(tmp_path_factory):
    """An orchestrator with a 1 s read timeout in front of stand-in backends that misbehave
    (see ``tests.support.standin_http``)."""
    logs = tmp_path_factory.mktemp("faulty-logs")
    slow = standin_http.serve("slow", delay=30)
    html = standin_http.serve("html")
    truncated = standin_http.serve("truncated")
    stalled = standin_http.serve("stalled", delay=30)
    orchestrator = start_orchestrator(
        {
            "slow": f"http://127.0.0.1:{slow.server_port}",
            "html": f"http://127.0.0.1:{html.server_port}",
            "truncated": f"http://127.0.0.1:{truncated.server_port}",
            "stalled": f"http://127.0.0.1:{stalled.server_port}",
            "rapidocr": UNREACHABLE_URL,
        },
        logs,
        env={"BACKEND_READ_TIMEOUT": "1"},
    )
    try:
        wait_healthy(orchestrator, need_model=False)
        yield orchestrator
    finally:
        orchestrator.stop()
        for server in (slow, html, truncated, stalled):
            server.shutdown()


@dataclass
class ApiSystem:
    """rapidocr and tesseract backends; ``orchestrator`` in front of both (every backend up, the
    spec-driven tests' target), ``with_down`` in front of both and a mineru nobody runs."""

    rapidocr: Service
    tesseract: Service
    orchestrator: Service
    with_down: Service

    @property
    def url(self) -> str:
        return self.orchestrator.url


@pytest.fixture(scope="session")
def api_system(tmp_path_factory):
    logs = tmp_path_factory.mktemp("api-logs")
    rapidocr = start_backend("rapidocr", logs)
    tesseract = start_backend("tesseract", logs)
    up = {"rapidocr": rapidocr.url, "tesseract": tesseract.url}
    orchestrator = start_orchestrator(up, logs / "up")
    # One PDF slice at a time to rapidocr: a cancel lands while a job is still under way.
    with_down = start_orchestrator(
        {**up, "mineru": UNREACHABLE_URL}, logs / "down", env={"PDF_CONCURRENCY": "rapidocr=1"}
    )
    services = (with_down, orchestrator, tesseract, rapidocr)
    try:
        for service in (rapidocr, tesseract):
            wait_healthy(service)
        for service in (orchestrator, with_down):
            wait_healthy(service, need_model=False)
            wait_backends_healthy(service, up)
        yield ApiSystem(rapidocr, tesseract, orchestrator, with_down)
    finally:
        for service in services:
            service.stop()


def wait_backends_healthy(orchestrator: Service, names, timeout: float = 30) -> None:
    """Until the orchestrator's own health checks have seen every one of ``names`` healthy."""
    deadline = time.monotonic() + timeout
    statuses: dict[str, str] = {}
    while time.monotonic() < deadline:
        listing = requests.get(orchestrator.url + "/backends", timeout=5).json()
        statuses = {backend["name"]: backend["status"] for backend in listing["backends"]}
        if all(statuses.get(name) == "healthy" for name in names):
            return
        time.sleep(0.2)
    raise TimeoutError(f"backends not healthy on {orchestrator.url}: {statuses}")
