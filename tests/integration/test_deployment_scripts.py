"""deployment/startup.sh and stop.sh, run for real: rapidocr and the orchestrator under gunicorn on free ports."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support.documents import text_image
from tests.support.processes import REPO_ROOT, free_ports, worker_pids

pytestmark = pytest.mark.integration

STARTUP = REPO_ROOT / "deployment" / "startup.sh"
STOP = REPO_ROOT / "deployment" / "stop.sh"
RUNNING = ("rapidocr", "tesseract", "orchestrator")
SKIPPED = ("deepseek-ocr", "mineru")


def run_script(script: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(script)], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=timeout)


def output_of(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def gone(pid: int) -> bool:
    """No such process, or a zombie (exited, waiting for a parent that may never reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(") ", 1)[1].startswith("Z")


def wait_until(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def read_pids(run_dir: Path) -> dict[str, int]:
    return {name: int((run_dir / f"{name}.pid").read_text()) for name in RUNNING}


@pytest.fixture
def bystanders():
    """Processes that are not ours and must survive stop.sh; one even has 'gunicorn' in its argv."""
    code = "import time, sys; time.sleep(60)"
    procs = [
        subprocess.Popen([sys.executable, "-c", code]),
        subprocess.Popen([sys.executable, "-c", code, "gunicorn"]),
    ]
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def test_startup_then_stop(tmp_path, bystanders):
    run_dir, log_dir = tmp_path / "run", tmp_path / "logs"
    names = ("ORCHESTRATOR_PORT", "RAPIDOCR_PORT", "TESSERACT_PORT", "DEEPSEEK_PORT", "MINERU_PORT")
    ports = dict(zip(names, free_ports(len(names))))
    env = {
        **os.environ,
        **{name: str(port) for name, port in ports.items()},
        "ORCHESTRATOR_HOST": "127.0.0.1",
        "RUN_DIR": str(run_dir),
        "LOG_DIR": str(log_dir),
        "VENV": sys.prefix,
        "DEEPSEEK_VENV": str(tmp_path / "no-deepseek-venv"),
        "MINERU_VENV": str(tmp_path / "no-mineru-venv"),
        "HEALTH_INTERVAL": "0.5",
        "STARTUP_TIMEOUT": "60",
        "STOP_TIMEOUT": "15",
    }
    env.pop("OCR_BACKENDS", None)  # the script's default: all three backends at the ports above
    url = f"http://127.0.0.1:{ports['ORCHESTRATOR_PORT']}"
    ours: set[int] = set()
    try:
        first = run_script(STARTUP, env, timeout=120)
        assert first.returncode == 0, output_of(first)
        for name in SKIPPED:
            assert f"{name}: not installed" in first.stdout and "skipped" in first.stdout, output_of(first)
            assert not (run_dir / f"{name}.pid").exists()
        pids = read_pids(run_dir)
        for name in RUNNING:
            assert (log_dir / f"{name}.log").is_file(), name
        ours = set(pids.values()) | {w for pid in pids.values() for w in worker_pids(pid)}
        assert len(ours) > len(pids), "each gunicorn master has its workers"

        def rapidocr_healthy():
            body = requests.get(url + "/health", timeout=5).json()
            return body if body["backends"]["rapidocr"]["status"] == "healthy" else None

        health = wait_until(rapidocr_healthy, timeout=10)
        assert health, requests.get(url + "/health", timeout=5).json()
        assert set(health["backends"]) == {"rapidocr", "tesseract", *SKIPPED}

        response = requests.post(url + "/ocr", files={"file": ("page.png", text_image(["Hello deployment 42"]))},
                                 data={"backend": "rapidocr"}, timeout=60)
        assert response.status_code == 200, response.text
        assert "deployment" in response.json()["markdown"].lower(), response.json()["markdown"]
        # a backend that is configured but not running: the orchestrator's clear 503
        down = requests.post(url + "/ocr", files={"file": ("page.png", text_image(["x"]))},
                             data={"backend": "mineru"}, timeout=30)
        assert down.status_code == 503, down.text

        second = run_script(STARTUP, env, timeout=120)
        assert second.returncode == 0, output_of(second)
        for name in RUNNING:
            assert f"{name}: already running" in second.stdout, output_of(second)
        assert read_pids(run_dir) == pids
        assert set(pids.values()) | {w for pid in pids.values() for w in worker_pids(pid)} == ours

        # PID files that name processes which are not ours (as after a reboot recycled the numbers)
        (run_dir / "mineru.pid").write_text(f"{bystanders[0].pid}\n")
        (run_dir / "deepseek-ocr.pid").write_text(f"{bystanders[1].pid}\n")
    finally:
        stop = run_script(STOP, env, timeout=90)

    assert stop.returncode == 0, output_of(stop)
    for name in RUNNING:
        assert f"{name}: stopped" in stop.stdout, output_of(stop)
    still_there = [pid for pid in ours if not wait_until(lambda pid=pid: gone(pid), timeout=5)]
    assert not still_there, (still_there, output_of(stop))
    for proc in bystanders:
        assert proc.poll() is None, f"stop.sh killed an unrelated process {proc.args}"
    assert not list(run_dir.glob("*.pid")), output_of(stop)

    again = run_script(STOP, env, timeout=30)
    assert again.returncode == 0 and "Nothing was running" in again.stdout, output_of(again)


def test_startup_refuses_two_services_on_one_port(tmp_path):
    port = str(free_ports(1)[0])
    env = {**os.environ, "RAPIDOCR_PORT": port, "MINERU_PORT": port, "RUN_DIR": str(tmp_path / "run"),
           "LOG_DIR": str(tmp_path / "logs"), "VENV": sys.prefix}
    result = run_script(STARTUP, env, timeout=30)
    assert result.returncode != 0 and f"rapidocr and mineru are both set to port {port}" in result.stderr
    assert not (tmp_path / "run" / "rapidocr.pid").exists()
