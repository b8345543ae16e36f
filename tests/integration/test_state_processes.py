"""The orchestrator's state under faults, against real gunicorn processes on loopback (two workers)
in front of a stand-in backend: a full data disk (a small tmpfs, filled), a damaged database at
start, a database deleted while running, and jobs of another API key."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from orchestrator.database import PROBE_ON_DEMAND_S, Database
from orchestrator.job_store import JobStore
from orchestrator.services import DATABASE_FILE
from tests.support import standin_http
from tests.support.documents import text_image
from tests.support.metrics import value
from tests.support.multipart import multipart
from tests.support.processes import Service, start_orchestrator, wait_healthy

FAST = {"MAINTENANCE_INTERVAL": "0.3", "OCR_DEFAULT_BACKEND": "delayed", "DATA_MIN_FREE_BYTES": str(2**20)}


@pytest.fixture(scope="module")
def backend_url() -> Iterator[str]:
    server = standin_http.serve("delayed", delay=0.01)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@contextlib.contextmanager
def orchestrator(backend_url: str, logs: Path, **env: str) -> Iterator[Service]:
    service = start_orchestrator({"delayed": backend_url}, logs, env={**FAST, **env})
    try:
        wait_healthy(service, timeout=30, need_model=False)
        wait_ready(service, True)
        yield service
    finally:
        service.stop()


def wait_ready(service: Service, ready: bool, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        answer = requests.get(service.url + "/ready", timeout=5)
        if (answer.status_code == 200) == ready:
            return answer.json()
        assert time.monotonic() < deadline, f"/ready still {answer.status_code}: {answer.text}"
        time.sleep(0.1)


def post(service: Service, path: str, width: int, headers: dict[str, str] | None = None) -> requests.Response:
    body, content_type = multipart({"file": ("a.png", text_image(["state"], width=width))}, {})
    return requests.post(
        service.url + path, data=body, headers={"Content-Type": content_type, **(headers or {})}, timeout=30
    )


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 24 MiB tmpfs as the data directory; unmounted after the test."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mount)], capture_output=True
    )
    assert done.returncode == 0, f"running as root but cannot mount a tmpfs: {done.stderr.decode()}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(directory: Path) -> Path:
    """Write ``directory``'s file system full (to the last page)."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (2**20, 4096):
            with contextlib.suppress(OSError):  # ENOSPC: full at this chunk size
                while True:
                    os.write(fd, b"\0" * chunk)
    finally:
        os.close(fd)
    return filler


def test_a_full_data_disk_never_fails_sync_ocr_and_ready_recovers(backend_url, small_disk, tmp_path):
    with orchestrator(backend_url, tmp_path / "logs", OCR_DATA_DIR=str(small_disk)) as service:
        assert post(service, "/ocr", 300).headers["X-Cache"] == "miss"
        filler = fill(small_disk)
        reasons = wait_ready(service, False)["reasons"]
        assert any(reason.startswith("database:") for reason in reasons), reasons
        for width in (300, 310, 320, 330):  # a cached one (its use time may not be written) and new ones
            answer = post(service, "/ocr", width)
            assert answer.status_code == 200, answer.text
        compare = post(service, "/ocr/compare", 340)
        assert compare.status_code == 200, compare.text
        refused = post(service, "/jobs", 300)
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "state_unavailable"
        metrics = requests.get(service.url + "/metrics", timeout=5).text
        assert value(metrics, "ocr_cache_failures_total") >= 1
        filler.unlink()
        wait_ready(service, True)
        # /ready was answered by one worker; the other re-probes on the next job request, at most
        # every PROBE_ON_DEMAND_S (its last probe, just before, may have said "full"): within a second.
        deadline = time.monotonic() + 4 * PROBE_ON_DEMAND_S
        while (accepted := post(service, "/jobs", 300)).status_code == 503 and time.monotonic() < deadline:
            time.sleep(PROBE_ON_DEMAND_S / 2)
        assert accepted.status_code == 202, accepted.text


def damaged_database(path: Path) -> None:
    """A real database with an 80 KB stretch in its middle overwritten."""
    store = JobStore(Database(path), 60)
    for _ in range(40):
        job_id = store.create("ocr", ["delayed"], None, {})
        for page in range(1, 4):
            store.add_page(job_id, "delayed", {"page": page, "markdown": "m" * 3000})
    store.database.checkpoint()
    size = path.stat().st_size
    with open(path, "r+b") as file:
        file.seek(size // 2)
        file.write(os.urandom(80_000))


def test_a_damaged_database_is_moved_aside_and_sync_ocr_serves(backend_url, tmp_path):
    logs = tmp_path / "logs"
    data = logs / "data"
    damaged_database(data / DATABASE_FILE)
    with orchestrator(backend_url, logs) as service:
        assert post(service, "/ocr", 300).status_code == 200
        assert post(service, "/jobs", 300).status_code == 202
        assert len(list(data.glob(f"{DATABASE_FILE}.corrupt-*Z"))) == 1  # once, for both workers
        assert "DAMAGED" in service.log()


def test_a_deleted_database_is_made_again_with_no_split_brain(backend_url, tmp_path):
    logs = tmp_path / "logs"
    with orchestrator(backend_url, logs) as service:
        assert post(service, "/jobs", 300).status_code == 202
        (logs / "data" / DATABASE_FILE).unlink()
        time.sleep(1.0)  # a few maintenance rounds in every worker
        jobs = [post(service, "/jobs", 300).json()["status_url"] for _ in range(6)]
        for url in jobs * 3:  # each read lands on either worker
            assert requests.get(service.url + url, timeout=5).status_code == 200
        assert "was deleted" in service.log()


def test_another_keys_job_is_not_found(backend_url, tmp_path):
    owner, other = {"X-API-Key": "key-one"}, {"X-API-Key": "key-two"}
    with orchestrator(backend_url, tmp_path / "logs", ORCHESTRATOR_API_KEYS="key-one,key-two") as service:
        job = post(service, "/jobs", 300, owner).json()
        for _ in range(4):  # both workers
            stranger = requests.get(service.url + job["status_url"], headers=other, timeout=5)
            assert stranger.status_code == 404 and stranger.json()["error"]["code"] == "job_not_found"
            events = requests.get(service.url + job["events_url"], headers=other, timeout=5)
            assert events.status_code == 404
            assert requests.get(service.url + job["status_url"], headers=owner, timeout=5).status_code == 200
        assert requests.delete(service.url + job["status_url"], headers=other, timeout=5).status_code == 404
