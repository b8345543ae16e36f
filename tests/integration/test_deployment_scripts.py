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
from tests.support.processes import REPO_ROOT, UNREACHABLE_URL, free_ports, start_orchestrator, worker_pids

pytestmark = pytest.mark.integration

STARTUP = REPO_ROOT / "deployment" / "startup.sh"
STOP = REPO_ROOT / "deployment" / "stop.sh"
STATUS = REPO_ROOT / "deployment" / "status.sh"
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


def status_table(result: subprocess.CompletedProcess) -> dict[str, dict[str, str]]:
    """status.sh's table: service → its columns."""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SERVICE", "PORT", "PID", "GPU", "HEALTH"], output_of(result)
    rows = {}
    for line in lines[1:]:
        if not line.strip() or line.startswith("GPU "):
            continue
        name, port, pid, gpu, health = line.split(maxsplit=4)
        rows[name] = {"port": port, "pid": pid, "gpu": gpu, "health": health}
    return rows


def read_pids(run_dir: Path) -> dict[str, int]:
    return {name: int((run_dir / f"{name}.pid").read_text()) for name in RUNNING}


@pytest.fixture
def bystanders(tmp_path):
    """Processes that are not ours and must survive stop.sh: one has 'gunicorn' in its argv, and one is
    a real gunicorn serving the very orchestrator app, started by someone else (no PID file of ours)."""
    code = "import time, sys; time.sleep(60)"
    procs = [
        subprocess.Popen([sys.executable, "-c", code]),
        subprocess.Popen([sys.executable, "-c", code, "gunicorn"]),
    ]
    other = start_orchestrator({"rapidocr": UNREACHABLE_URL}, tmp_path / "other-orchestrator")
    yield procs + [other.process]
    for proc in procs:
        proc.kill()
        proc.wait()
    other.stop()


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
    # Rotation at start: rapidocr's log is over the limit, with two older ones already kept.
    env.update({"LOG_MAX_BYTES": "4096", "LOG_KEEP": "2"})
    log_dir.mkdir()
    (log_dir / "rapidocr.log").write_text("old run\n" * 1000)
    (log_dir / "rapidocr.log.1").write_text("older run\n")
    (log_dir / "rapidocr.log.2").write_text("oldest run\n")
    (log_dir / "tesseract.log").write_text("small\n")
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
        assert (log_dir / "rapidocr.log.1").read_text().startswith("old run")
        assert (log_dir / "rapidocr.log.2").read_text() == "older run\n"
        assert not (log_dir / "rapidocr.log.3").exists(), "only LOG_KEEP old logs are kept"
        assert "old run" not in (log_dir / "rapidocr.log").read_text()
        assert (log_dir / "tesseract.log").read_text().startswith("small"), "under the limit: not rotated"
        assert not (log_dir / "tesseract.log.1").exists()
        ours = set(pids.values()) | {w for pid in pids.values() for w in worker_pids(pid)}
        assert len(ours) > len(pids), "each gunicorn master has its workers"

        def rapidocr_healthy():
            body = requests.get(url + "/health", timeout=5).json()
            return body if body["backends"]["rapidocr"]["status"] == "healthy" else None

        health = wait_until(rapidocr_healthy, timeout=10)
        assert health, requests.get(url + "/health", timeout=5).json()

        status = run_script(STATUS, env, timeout=60)
        assert status.returncode == 0, output_of(status)
        table = status_table(status)
        assert list(table) == ["rapidocr", "tesseract", "deepseek-ocr", "mineru", "orchestrator"]
        for name in RUNNING:
            assert table[name]["health"] == "healthy" and table[name]["pid"] == str(pids[name]), table
            assert table[name]["port"] == str(ports[f"{name.upper()}_PORT"]) and table[name]["gpu"] == "-"
        for name, gpu in (("deepseek-ocr", "0"), ("mineru", "1")):
            assert table[name] == {"port": str(ports[f"{name.split('-')[0].upper()}_PORT"]), "pid": "-",
                                   "gpu": gpu, "health": "not installed"}, table
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

    after = run_script(STATUS, env, timeout=60)
    assert after.returncode == 1, output_of(after)
    assert {name: row["health"] for name, row in status_table(after).items()} == {
        "rapidocr": "down", "tesseract": "down", "deepseek-ocr": "not installed", "mineru": "not installed",
        "orchestrator": "down"}


def test_startup_refuses_two_services_on_one_port(tmp_path):
    port = str(free_ports(1)[0])
    env = {**os.environ, "RAPIDOCR_PORT": port, "MINERU_PORT": port, "RUN_DIR": str(tmp_path / "run"),
           "LOG_DIR": str(tmp_path / "logs"), "VENV": sys.prefix}
    result = run_script(STARTUP, env, timeout=30)
    assert result.returncode != 0 and f"rapidocr and mineru are both set to port {port}" in result.stderr
    assert not (tmp_path / "run" / "rapidocr.pid").exists()


SETUP = REPO_ROOT / "deployment" / "setup.sh"


def fake_nvidia_smi(tmp_path: Path, gpus: int) -> Path:
    script = tmp_path / "nvidia-smi"
    listing = "".join(f"echo 'GPU {i}: NVIDIA Test GPU (UUID: GPU-{i})'\n" for i in range(gpus))
    script.write_text("#!/bin/sh\n" + listing)
    script.chmod(0o755)
    return script


def test_setup_is_idempotent_and_says_why_gpu_backends_are_skipped(tmp_path):
    """On this CPU machine: the main environment (the test venv, already complete) is checked once,
    then left alone; the GPU backends are skipped with the reason."""
    env = {**os.environ, "VENV": sys.prefix, "LOG_DIR": str(tmp_path / "logs"),
           "DEEPSEEK_VENV": str(tmp_path / "deepseek"), "MINERU_VENV": str(tmp_path / "mineru"),
           "NVIDIA_SMI": str(fake_nvidia_smi(tmp_path, 0))}
    first = run_script(SETUP, env, timeout=300)
    assert first.returncode == 0, output_of(first)
    assert "main: installing" in first.stdout or "main: up to date" in first.stdout, output_of(first)
    for name in ("deepseek-ocr", "mineru"):
        assert f"{name}: skipped: no GPU here" in first.stdout, output_of(first)
        assert not (tmp_path / name.split("-")[0]).exists()
    assert list(Path(sys.prefix).glob(".setup-*")), "a stamp names the requirements it installed"

    second = run_script(SETUP, env, timeout=60)
    assert second.returncode == 0 and "main: up to date" in second.stdout, output_of(second)
    assert "installing" not in second.stdout, output_of(second)

    # One GPU: MinerU (pinned to GPU 1) is skipped with that reason; deepseek-ocr would install.
    one_gpu = {**env, "NVIDIA_SMI": str(fake_nvidia_smi(tmp_path, 1)), "SETUP_GPU": "auto", "PIP_NO_INDEX": "1",
               "PIP_FIND_LINKS": ""}
    third = run_script(SETUP, one_gpu, timeout=300)
    assert "mineru: skipped: it is pinned to GPU 1 and" in third.stdout, output_of(third)
    # No wheels to be had (no index): a clear failure, and no half-built environment left to start.
    assert third.returncode == 1, output_of(third)
    assert "deepseek-ocr: FAILED: could not install its requirements" in third.stderr, output_of(third)
    assert not (tmp_path / "deepseek").exists(), "a failed GPU environment is removed"
    assert (tmp_path / "logs" / "setup-deepseek-ocr.log").is_file()


def fake_tool(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(0o755)


def test_setup_models_uses_each_backends_own_download_once(tmp_path):
    """--models: DeepSeek-OCR's weights with the hub's `hf download`, MinerU's with `mineru-kit models
    download`, into MODELS_DIR; a second run finds them and downloads nothing. (Stand-ins for the two
    commands in stand-in GPU environments: no GPU or internet here.)"""
    calls = tmp_path / "calls.log"
    deepseek, mineru, models = tmp_path / "deepseek", tmp_path / "mineru", tmp_path / "models"
    for venv in (deepseek, mineru):
        fake_tool(venv / "bin" / "gunicorn", "exit 0\n")
    fake_tool(deepseek / "bin" / "hf", f'echo "hf $*" >>{calls}\nmkdir -p "$4" && touch "$4/config.json"\n')
    fake_tool(mineru / "bin" / "mineru-kit", f'echo "mineru-kit $* base=$MINERU_MODEL_BASE_DIR" >>{calls}\n'
              'if [[ "$2" == verify ]]; then [[ -d "$MINERU_MODEL_BASE_DIR" ]]; exit; fi\n'
              'mkdir -p "$MINERU_MODEL_BASE_DIR"\n')
    env = {**os.environ, "VENV": sys.prefix, "LOG_DIR": str(tmp_path / "logs"), "SETUP_GPU": "none",
           "DEEPSEEK_VENV": str(deepseek), "MINERU_VENV": str(mineru), "MODELS_DIR": str(models)}
    first = subprocess.run(["bash", str(SETUP), "--models"], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 0, output_of(first)
    assert calls.read_text().splitlines() == [
        f"hf download deepseek-ai/DeepSeek-OCR --local-dir {models}/DeepSeek-OCR",
        f"mineru-kit models verify --tier standard base={models}/mineru",
        f"mineru-kit models download --tier standard base={models}/mineru",
    ]
    second = subprocess.run(["bash", str(SETUP), "--models"], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120)
    assert second.returncode == 0, output_of(second)
    assert "deepseek-ocr models: already in" in second.stdout and "mineru models: tier standard already in" in second.stdout
    assert len(calls.read_text().splitlines()) == 4, "only MinerU's own check ran again"
