"""Evaluations over real processes: the sample set through rapidocr and tesseract under gunicorn
behind the real orchestrator, with progress events, export, cancel and a restart of the orchestrator
(the finished evaluation and its results are still there). MinerU on a born-digital PDF where it is
installed. The time each backend took on the sample set is printed (the issue's closing note)."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import time

import pytest
import requests

from tests.integration.conftest import wait_backends_healthy
from tests.support.documents import text_pdf
from tests.support.processes import start_backend, start_orchestrator, wait_healthy
from tests.support.schema import validate

pytestmark = pytest.mark.integration
BACKENDS = ("rapidocr", "tesseract")
MEMO = [
    "Memo to the planning team",
    "The spring fair opens on Saturday morning.",
    "Stalls are set up from seven o'clock.",
    "Parking is behind the town hall.",
    "Volunteers meet at the north gate.",
]


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    logs = tmp_path_factory.mktemp("evaluation-logs")
    backends = {name: start_backend(name, logs) for name in BACKENDS}
    urls = {name: service.url for name, service in backends.items()}
    orchestrator = start_orchestrator(urls, logs)
    state = {"orchestrator": orchestrator, "logs": logs, "urls": urls}
    try:
        for service in backends.values():
            wait_healthy(service)
        wait_healthy(orchestrator, need_model=False)
        wait_backends_healthy(orchestrator, urls)
        yield state
    finally:
        state["orchestrator"].stop()
        for service in backends.values():
            service.stop()


def start(url: str, **fields: str) -> dict:
    response = requests.post(url + "/evaluations", files={"sample": (None, "true"), **fields}, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()


def events(url: str, timeout: float = 600) -> list[tuple[str, dict]]:
    found = []
    with requests.get(url + "/events", stream=True, timeout=timeout) as response:
        kind = None
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                found.append((kind, json.loads(line.removeprefix("data: "))))
    return found


def test_the_sample_set_through_rapidocr_and_tesseract(system):
    url = system["orchestrator"].url
    accepted = start(url, backends=(None, ",".join(BACKENDS)), cache=(None, "false"))
    evaluation_url = url + accepted["url"]
    started = time.monotonic()
    stream = events(evaluation_url)
    wall = time.monotonic() - started
    kinds = [kind for kind, _ in stream]
    assert kinds.count("result") == 8 and kinds[-1] == "end" and stream[-1][1] == {"status": "done"}
    last = {data["backend"]: data for kind, data in stream if kind == "progress"}
    assert last == {name: {"backend": name, "done": 4, "total": 4, "failed": 0} for name in BACKENDS}

    evaluation = requests.get(evaluation_url, timeout=10).json()
    validate(evaluation, "evaluation")
    assert evaluation["status"] == "done" and all(r["error"] is None for r in evaluation["results"])
    board = {entry["backend"]: entry for entry in evaluation["leaderboard"]}
    assert set(board) == set(BACKENDS)
    for name, entry in board.items():
        assert entry["documents"] == 4 and entry["cer"] < 0.1 and entry["word_f1"] > 0.9, (name, entry)
        assert set(entry["by_kind"]) == {"letter", "receipt", "table", "two-column"}
    seconds = {name: sum(r["seconds"] for r in evaluation["results"] if r["backend"] == name) for name in BACKENDS}
    print(
        f"\nsample set (4 pages), wall {wall:.1f} s; per backend: "
        + ", ".join(f"{n} {s:.2f} s" for n, s in seconds.items())
    )
    system["finished"] = evaluation

    document = requests.get(evaluation_url + "/documents/receipt", timeout=10).json()
    validate(document, "evaluation_document")
    assert document["results"]["tesseract"]["pages"][0]["blocks"]

    rows = list(csv.DictReader(io.StringIO(requests.get(evaluation_url + "/export?format=csv", timeout=10).text)))
    assert len(rows) == 8 and {row["backend"] for row in rows} == set(BACKENDS)
    exported = requests.get(evaluation_url + "/export", params={"format": "json"}, timeout=10).json()
    assert exported["leaderboard"] == evaluation["leaderboard"]


def test_cancel_stops_it_and_keeps_what_finished(system):
    url = system["orchestrator"].url
    accepted = start(url, backends=(None, "rapidocr"), cache=(None, "false"))
    evaluation_url = url + accepted["url"]
    deadline = time.monotonic() + 120
    while not requests.get(evaluation_url, timeout=10).json()["results"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    cancelled = requests.delete(evaluation_url, timeout=10).json()
    assert cancelled["status"] == "cancelled"
    stream = events(evaluation_url, timeout=60)
    assert stream[-1] == ("end", {"status": "cancelled"})
    time.sleep(3)  # a document under way when it was cancelled is dropped, not recorded
    assert len(requests.get(evaluation_url, timeout=10).json()["results"]) < 4


def test_it_survives_a_restart_of_the_orchestrator(system):
    finished = system.get("finished")
    if finished is None:
        pytest.skip("needs the finished evaluation of the first test")
    system["orchestrator"].stop()
    system["orchestrator"] = again = start_orchestrator(system["urls"], system["logs"])
    wait_healthy(again, need_model=False)
    after = requests.get(again.url + finished["url"], timeout=10).json()
    assert after["status"] == "done" and after["results"] == finished["results"]
    assert after["leaderboard"] == finished["leaderboard"]
    listed = requests.get(again.url + "/evaluations", timeout=10).json()["evaluations"]
    assert finished["id"] in [e["id"] for e in listed]


@pytest.mark.skipif(importlib.util.find_spec("mineru") is None, reason="MinerU is not installed here")
def test_mineru_on_a_born_digital_pdf(tmp_path):
    base = tmp_path / "mineru"
    for name in ("models", "home", "uploads"):
        (base / name).mkdir(parents=True)
    env = {
        "MINERU_MODEL_BASE_DIR": str(base / "models"),
        "MINERU_HOME": str(base / "home"),
        "MINERU_TMP_DIR": str(base / "uploads"),
        "MINERU_GPU": "0",
        "HF_HUB_OFFLINE": "1",
    }
    backend = start_backend("mineru", tmp_path, env=env)
    orchestrator = start_orchestrator({"mineru": backend.url}, tmp_path, env={"OCR_DEFAULT_BACKEND": "mineru"})
    try:
        wait_healthy(backend, timeout=180)
        wait_healthy(orchestrator, need_model=False)
        wait_backends_healthy(orchestrator, {"mineru": backend.url})
        pages = [MEMO[:3], MEMO[3:]]
        files = [("file", ("memo.pdf", text_pdf(pages))), ("file", ("memo.txt", "\n".join(MEMO).encode()))]
        answer = requests.post(orchestrator.url + "/evaluations", files=[*files, ("backends", (None, "mineru"))])
        assert answer.status_code == 202, answer.text
        stream = events(orchestrator.url + answer.json()["url"], timeout=300)
        assert stream[-1] == ("end", {"status": "done"})
        [entry] = requests.get(orchestrator.url + answer.json()["url"], timeout=10).json()["leaderboard"]
        assert entry["documents"] == 1 and entry["cer"] < 0.1, entry
    finally:
        orchestrator.stop()
        backend.stop()
