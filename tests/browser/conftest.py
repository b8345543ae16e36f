"""The web client in headless Chromium (Debian's ``chromium``, driven by Playwright) against the
real orchestrator serving ``web-client/dist``, a real rapidocr and tesseract, and a backend that is
down. Nothing here skips: without Chromium or the built client these tests fail and say why."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.support.processes import REPO_ROOT, UNREACHABLE_URL, Service, start_backend, start_orchestrator, wait_healthy

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# As root in a container: no sandbox; and no calls out (this machine's network is closed).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
WEB_DIST = REPO_ROOT / "web-client" / "dist"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
#: Generous: a loaded 2-core CI machine runs rapidocr, tesseract, gunicorn and Chromium at once.
UI_TIMEOUT_MS = 90_000


@dataclass
class WebSystem:
    orchestrator: Service
    backends: list[Service] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.orchestrator.url


def _wait_backends_healthy(url: str, names: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    statuses: dict[str, str] = {}
    while time.monotonic() < deadline:
        statuses = {b["name"]: b["status"] for b in requests.get(url + "/backends", timeout=10).json()["backends"]}
        if all(statuses.get(name) == "healthy" for name in names):
            return
        time.sleep(0.2)
    raise AssertionError(f"backends not healthy in the orchestrator: {statuses}")


@pytest.fixture(scope="session")
def web_system(tmp_path_factory) -> Iterator[WebSystem]:
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail(f"the web client is not built ({WEB_DIST}/index.html missing): run `make setup`", pytrace=False)
    logs = tmp_path_factory.mktemp("browser-logs")
    rapidocr = start_backend("rapidocr", logs)
    tesseract = start_backend("tesseract", logs)
    services = [rapidocr, tesseract]
    orchestrator = None
    try:
        wait_healthy(rapidocr)
        wait_healthy(tesseract)
        # mineru and deepseek-ocr: nobody listens there. One PDF slice at a time, so a job is
        # cancelled half-way.
        orchestrator = start_orchestrator(
            {
                "rapidocr": rapidocr.url,
                "tesseract": tesseract.url,
                "mineru": UNREACHABLE_URL,
                "deepseek-ocr": UNREACHABLE_URL,
            },
            logs,
            env={"PDF_CONCURRENCY": "rapidocr=1", "WEB_CLIENT_DIR": str(WEB_DIST)},
        )
        wait_healthy(orchestrator, need_model=False)
        _wait_backends_healthy(orchestrator.url, ["rapidocr", "tesseract"])
        yield WebSystem(orchestrator, services)
    finally:
        if orchestrator is not None:
            orchestrator.stop()
        for service in services:
            service.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's `chromium` (apt-get install -y chromium; "
            "`.ci/run` does) or set CHROMIUM_PATH",
            pytrace=False,
        )
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail("the `playwright` package is missing: run `make setup` (it is in the test extra)", pytrace=False)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class BrowserPage:
    """A fresh page, with every dialog (alert, confirm…) and page error it ever saw recorded."""

    page: object
    dialogs: list[str]
    errors: list[str]

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item, so the page fixture knows a test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@contextmanager
def browser_page(browser, base_url: str, node) -> Iterator[BrowserPage]:
    """A fresh context and page on ``base_url``; a screenshot if the test ``node`` failed."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=base_url)
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    shown = BrowserPage(page, [], [])

    def on_dialog(dialog) -> None:
        shown.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: shown.errors.append(str(error)))
    try:
        yield shown
    finally:
        report = getattr(node, "report_call", None)
        if report is not None and report.failed:
            shown.screenshot(f"FAILED-{node.name}")
        context.close()


@pytest.fixture
def web(request, browser, web_system) -> Iterator[BrowserPage]:
    with browser_page(browser, web_system.url, request.node) as shown:
        yield shown
