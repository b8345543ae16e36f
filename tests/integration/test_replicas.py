"""Two rapidocr replicas behind one orchestrator, all real gunicorn processes: they share the load,
one stopping leaves requests succeeding on the other, both stopping gives the 503 naming rapidocr."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.documents import text_image
from tests.support.processes import UNREACHABLE_URL, start_backend, start_orchestrator, wait_healthy
from tests.support.schema import validate

pytestmark = pytest.mark.integration

# Each replica logs its requests ("-" = its log file), so the test can count what each one got.
REPLICA_ENV = {"ACCESS_LOG": "-", "RAPIDOCR_THREADS": "1"}
# Replica addresses are shown to an operator only (the others see `<internal>`).
OPERATOR = {"X-API-Key": "replica-test-operator"}


def ocr(url: str, text: str) -> requests.Response:
    return requests.post(
        url + "/ocr",
        files={"file": ("page.png", text_image([text]))},
        data={"backend": "rapidocr", "cache": "false", "boxes_image": "false"},
        headers=OPERATOR,
        timeout=120,
    )


def served(replica) -> int:
    return replica.log().count('"POST /ocr/image')


def replicas_of(url: str) -> dict[str, dict]:
    listing = requests.get(url + "/backends", headers=OPERATOR, timeout=10).json()
    validate(listing, "backends_list")
    return {r["url"]: r for b in listing["backends"] if b["name"] == "rapidocr" for r in b["replicas"]}


def wait_for(predicate, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (value := predicate()) and time.monotonic() < deadline:
        time.sleep(0.3)
    return value


def test_replicas_share_load_survive_one_stopping_and_503_when_all_are_down(tmp_path):
    first = start_backend("rapidocr", tmp_path, env=REPLICA_ENV)
    second = start_backend("rapidocr", tmp_path, env=REPLICA_ENV)
    orchestrator = start_orchestrator(
        {"rapidocr": f"{first.url}|{second.url}", "mineru": UNREACHABLE_URL},
        tmp_path,
        env={"REPLICA_MAX_FAILURES": "2", "ORCHESTRATOR_OPERATOR_KEYS": OPERATOR["X-API-Key"]},
    )
    try:
        for service in (first, second):
            wait_healthy(service)
        wait_healthy(orchestrator, need_model=False)
        both_healthy = wait_for(lambda: all(r["status"] == "healthy" for r in replicas_of(orchestrator.url).values()))
        assert both_healthy, replicas_of(orchestrator.url)

        # Concurrent requests spread over both (least work); so do ones sent one after another (in turn).
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda i: ocr(orchestrator.url, f"Replica {i}"), range(6)))
        answers += [ocr(orchestrator.url, f"Sequential {i}") for i in range(4)]
        assert [a.status_code for a in answers] == [200] * 10, [a.text[:300] for a in answers]
        counts = (served(first), served(second))
        assert sum(counts) == 10 and min(counts) >= 2, counts

        first.stop()
        after = [ocr(orchestrator.url, f"After stop {i}") for i in range(4)]
        assert [a.status_code for a in after] == [200] * 4, [a.text[:300] for a in after]
        assert "stop" in after[-1].json()["markdown"].lower()
        assert served(second) == counts[1] + 4
        down = wait_for(lambda: replicas_of(orchestrator.url)[first.url]["status"] == "unreachable")
        assert down, replicas_of(orchestrator.url)
        listing = requests.get(orchestrator.url + "/backends", headers=OPERATOR, timeout=10).json()
        assert {b["name"]: b["status"] for b in listing["backends"]}["rapidocr"] == "healthy"

        second.stop()
        refused = ocr(orchestrator.url, "Nobody")
        assert refused.status_code == 503, refused.text
        body = refused.json()
        validate(body, "error")
        assert body["backend"] == "rapidocr" and "rapidocr" in body["error"]["message"]
        assert body["error"]["code"] == "backend_unavailable"
        gone = wait_for(
            lambda: (
                requests.get(orchestrator.url + "/health", headers=OPERATOR, timeout=10).json()["backends"]["rapidocr"][
                    "status"
                ]
                == "unreachable"
            )
        )
        assert gone, requests.get(orchestrator.url + "/health", headers=OPERATOR, timeout=10).json()
    finally:
        orchestrator.stop()
        first.stop()
        second.stop()
