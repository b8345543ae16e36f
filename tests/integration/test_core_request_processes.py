"""The real processes (gunicorn, rapidocr, the orchestrator) on loopback: UTF-8 file names, and a
backend setting that changes output (the direction classifier) missing the result cache."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.documents import text_image
from tests.support.processes import start_backend, start_orchestrator, wait_healthy
from tests.support.schema import validate

pytestmark = pytest.mark.integration

NAME = "Rechnung_März.png"


@pytest.mark.parametrize("target", ["orchestrator", "backend"])
def test_a_utf8_file_name_comes_back_as_sent(system, target):
    url = system.url if target == "orchestrator" else system.backend.url
    response = requests.post(
        url + "/ocr", files={"file": (NAME, text_image(["März"]))}, data={"cache": "false"}, timeout=60
    )
    body = response.json()
    validate(body)
    assert response.status_code == 200 and body["image_name"] == NAME


def test_a_utf8_file_name_comes_back_on_a_cache_hit_and_in_a_job(system):
    image = text_image(["Straße 12"])
    for name in ("Übersicht.png", NAME):
        body = requests.post(system.url + "/ocr", files={"file": (name, image)}, timeout=60).json()
        assert body["image_name"] == name
    job = requests.post(system.url + "/jobs", files={"file": (NAME, image)}, timeout=60).json()
    status = requests.get(system.url + job["status_url"], timeout=10).json()
    assert status["image_name"] == NAME


def rapidocr_health(url: str) -> dict:
    return requests.get(url + "/health", timeout=5).json()


def test_changing_a_backend_setting_that_changes_output_misses_the_cache(tmp_path):
    """RAPIDOCR_ANGLE_CLS turns PP-OCR's direction classifier on: the same bytes, options and model,
    another answer. The backend's fingerprint changes, so the orchestrator's cache misses."""
    backend = start_backend("rapidocr", tmp_path, env={"RAPIDOCR_ANGLE_CLS": "0"})
    # One worker: each worker polls /health on its own, so with two the other one may not have seen
    # the fingerprint yet (it then neither reads nor writes the cache).
    orchestrator = start_orchestrator({"rapidocr": backend.url}, tmp_path, env={"ORCHESTRATOR_WORKERS": "1"})
    image = text_image(["The direction classifier is a setting"])

    def ocr() -> requests.Response:
        return requests.post(orchestrator.url + "/ocr", files={"file": ("a.png", image)}, timeout=120)

    try:
        before = wait_healthy(backend)["fingerprint"]
        wait_healthy(orchestrator, need_model=False)
        deadline = time.monotonic() + 30
        while requests.get(orchestrator.url + "/backends", timeout=5).json()["backends"][0]["fingerprint"] != before:
            assert time.monotonic() < deadline, "the orchestrator never saw the fingerprint"
            time.sleep(0.2)
        assert ocr().headers["X-Cache"] == "miss"
        assert ocr().headers["X-Cache"] == "hit"
        backend.stop()
        backend = start_backend("rapidocr", tmp_path, port=backend.port, env={"RAPIDOCR_ANGLE_CLS": "1"})
        after = wait_healthy(backend)["fingerprint"]
        assert after != before
        deadline = time.monotonic() + 30
        while requests.get(orchestrator.url + "/backends", timeout=5).json()["backends"][0]["fingerprint"] != after:
            assert time.monotonic() < deadline, "the orchestrator never saw the new fingerprint"
            time.sleep(0.2)
        response = ocr()
        assert response.status_code == 200 and response.headers["X-Cache"] == "miss"
        assert ocr().headers["X-Cache"] == "hit"
    finally:
        orchestrator.stop()
        backend.stop()
