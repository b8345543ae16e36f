"""deployment/startup.sh, status.sh and stop.sh run for real: rapidocr, tesseract and the orchestrator
under supervisord on free ports; a process killed with SIGKILL comes back by itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.support.documents import text_image
from tests.support.processes import REPO_ROOT, UNREACHABLE_URL, free_ports, plan_ports, start_orchestrator, worker_pids

pytestmark = pytest.mark.integration

STARTUP = REPO_ROOT / "deployment" / "startup.sh"
STOP = REPO_ROOT / "deployment" / "stop.sh"
STATUS = REPO_ROOT / "deployment" / "status.sh"
RUNNING = ("rapidocr", "tesseract", "orchestrator", "front")
#: Each service's port setting: the front serves the public port, the orchestrator listens behind it.
PORT_OF = {"front": "ORCHESTRATOR_PORT", "orchestrator": "ORCHESTRATOR_INTERNAL_PORT"}
SKIPPED = ("deepseek-ocr", "mineru")
#: The issue's bound: a killed service is healthy again within 30 s, with no command run.
HEAL_SECONDS = 30


def run_script(script: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(script)], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
    )


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
    assert lines[0].split() == ["SERVICE", "PORT", "PID", "GPU", "SMOKE", "HEALTH"], output_of(result)
    rows = {}
    for line in lines[1:]:
        if not line.strip():
            break
        name, port, pid, gpu, smoke, health = line.split(maxsplit=5)
        rows[name] = {"port": port, "pid": pid, "gpu": gpu, "smoke": smoke, "health": health}
    return rows


def environment(tmp_path: Path, **extra: str) -> tuple[dict[str, str], dict[str, int]]:
    ports = plan_ports()
    env = {
        **os.environ,
        **{name: str(port) for name, port in ports.items()},
        "ORCHESTRATOR_HOST": "127.0.0.1",
        "RUN_DIR": str(tmp_path / "run"),
        "LOG_DIR": str(tmp_path / "logs"),
        "VENV": sys.prefix,
        "DEEPSEEK_VENV": str(tmp_path / "no-deepseek-venv"),
        "MINERU_VENV": str(tmp_path / "no-mineru-venv"),
        "HEALTH_INTERVAL": "0.5",
        "STARTUP_TIMEOUT": "90",
        "STOP_TIMEOUT": "15",
        **extra,
    }
    env.pop("OCR_BACKENDS", None)  # the catalogue's: every backend at the ports above
    return env, ports


def supervisor_pids(env: dict[str, str]) -> dict[str, int]:
    """Each service's gunicorn master, as status.sh shows it."""
    table = status_table(run_script(STATUS, env, timeout=60))
    return {name: int(row["pid"]) for name, row in table.items() if row["pid"].isdigit()}


def family(pid: int) -> set[int]:
    return {pid, *worker_pids(pid)}


def listeners(port: int) -> set[int]:
    """PIDs holding a listening socket on ``port`` (from /proc: socket inodes of each process)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(fields[9])
    holders = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (proc / "fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            holders.add(int(proc.name))
    return holders


@dataclass
class Deployed:
    env: dict[str, str]
    ports: dict[str, int]
    first: subprocess.CompletedProcess
    run_dir: Path
    log_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['ORCHESTRATOR_PORT']}"

    def backend_status(self, name: str) -> str | None:
        try:
            # While the orchestrator restarts, the front answers its own JSON error (no "backends").
            backends = requests.get(self.url + "/backends", timeout=5).json()["backends"]
        except (requests.RequestException, ValueError, KeyError):
            return None
        return next(b["status"] for b in backends if b["name"] == name)

    def ocr(self, backend: str, words: str = "Hello deployment 42") -> requests.Response:
        return requests.post(
            self.url + "/ocr",
            files={"file": ("page.png", text_image([words]))},
            data={"backend": backend, "cache": "false"},
            timeout=60,
        )


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("deployed")
    env, ports = environment(tmp_path, LOG_MAX_BYTES="4096", LOG_KEEP="2")
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    # Rotation: rapidocr's log is over the limit, with two older ones already kept.
    (log_dir / "rapidocr.log").write_text("old run\n" * 1000)
    (log_dir / "rapidocr.log.1").write_text("older run\n")
    (log_dir / "rapidocr.log.2").write_text("oldest run\n")
    try:
        first = run_script(STARTUP, env, timeout=240)
        yield Deployed(env, ports, first, tmp_path / "run", log_dir)
    finally:
        run_script(STOP, env, timeout=120)


def test_startup_starts_what_is_installed_and_passes_the_smoke_gate(deployed):
    first = deployed.first
    assert first.returncode == 0, output_of(first)
    for name in SKIPPED:
        assert f"{name}: not installed" in first.stdout and "skipped" in first.stdout, output_of(first)
    for name in RUNNING:
        assert f"{name}: ready" in first.stdout, output_of(first)
    for name in ("rapidocr", "tesseract"):
        assert f"{name}: smoke pass (CER image" in first.stdout, output_of(first)
    smoke = (deployed.run_dir / "smoke.json").read_text()
    assert '"rapidocr"' in smoke and '"tesseract"' in smoke
    assert wait_until(lambda: deployed.backend_status("rapidocr") == "healthy", timeout=10)
    response = deployed.ocr("rapidocr")
    assert response.status_code == 200, response.text
    assert "deployment" in response.json()["markdown"].lower(), response.json()["markdown"]
    down = deployed.ocr("mineru", "x")  # configured, not running: the orchestrator's clear 503
    assert down.status_code == 503 and down.json()["backend"] == "mineru", down.text


def test_status_shows_pids_gpus_smoke_and_health(deployed):
    status = run_script(STATUS, deployed.env, timeout=60)
    assert status.returncode == 0, output_of(status)
    table = status_table(status)
    assert list(table) == ["rapidocr", "tesseract", "deepseek-ocr", "mineru", "orchestrator", "front"]
    for name in RUNNING:
        row = table[name]
        assert row["health"] == "healthy" and row["pid"].isdigit() and row["gpu"] == "-", table
        assert row["port"] == str(deployed.ports[PORT_OF.get(name, f"{name.upper()}_PORT")])
    assert table["rapidocr"]["smoke"] == "pass" and table["tesseract"]["smoke"] == "pass", table
    for name, gpu in (("deepseek-ocr", "0"), ("mineru", "1")):
        assert table[name]["gpu"] == gpu and table[name]["pid"] == "-" and table[name]["health"] == "not installed"


def test_logs_are_rotated_by_the_supervisor(deployed):
    log_dir = deployed.log_dir
    for name in RUNNING:
        assert (log_dir / f"{name}.log").is_file(), name
    assert (log_dir / "supervisord.log").is_file()
    assert wait_until(lambda: (log_dir / "rapidocr.log.1").read_text().startswith("old run"), timeout=10)
    assert (log_dir / "rapidocr.log.2").read_text() == "older run\n"
    assert not (log_dir / "rapidocr.log.3").exists(), "only LOG_KEEP old logs are kept"
    assert "old run" not in (log_dir / "rapidocr.log").read_text()


def test_startup_again_starts_nothing(deployed):
    before = supervisor_pids(deployed.env)
    second = run_script(STARTUP, deployed.env, timeout=240)
    assert second.returncode == 0, output_of(second)
    for name in RUNNING:
        assert f"{name}: already running" in second.stdout, output_of(second)
    assert supervisor_pids(deployed.env) == before


@pytest.mark.parametrize("name", ["rapidocr", "orchestrator", "front"])
def test_a_service_killed_with_sigkill_comes_back_by_itself(deployed, name):
    """SIGKILL of the gunicorn master (or of nginx, one process): supervisord starts a new one, its
    workers die with the old one (none is left holding the port), and the orchestrator sees the
    backend healthy again."""
    port = deployed.ports[PORT_OF.get(name, f"{name.upper()}_PORT")]
    master = supervisor_pids(deployed.env)[name]
    old = family(master)
    assert len(old) > 1 or name == "front", "the master has its workers"
    killed_at = time.monotonic()
    os.kill(master, 9)

    def healed() -> bool:
        if name in ("orchestrator", "front"):
            # A new master, answering (an old worker may still answer for a moment before it dies).
            if supervisor_pids(deployed.env).get(name) in (None, master):
                return False
            try:
                return requests.get(deployed.url + "/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False
        return deployed.backend_status(name) == "healthy" and supervisor_pids(deployed.env).get(name) != master

    assert wait_until(healed, timeout=HEAL_SECONDS, interval=0.25), f"{name} not back within {HEAL_SECONDS} s"
    took = time.monotonic() - killed_at
    print(f"{name}: healthy again {took:.1f} s after kill -9")
    assert all(wait_until(lambda pid=pid: gone(pid), timeout=5) for pid in old), "an old worker lives on"
    new_master = supervisor_pids(deployed.env)[name]
    assert new_master != master and listeners(port) <= family(new_master), "only the new server holds the port"
    assert wait_until(lambda: deployed.backend_status("rapidocr") == "healthy", timeout=HEAL_SECONDS)
    response = deployed.ocr("rapidocr")
    assert response.status_code == 200, response.text


@pytest.fixture
def bystanders(tmp_path):
    """Processes that are not ours and must survive stop.sh: one has 'gunicorn' in its argv, and one is
    a real gunicorn serving the very orchestrator app, started by someone else."""
    code = "import time, sys; time.sleep(120)"
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


def test_stop_stops_ours_and_nothing_else(deployed, bystanders):
    pids = supervisor_pids(deployed.env)
    ours = {pid for master in pids.values() for pid in family(master)}
    stop = run_script(STOP, deployed.env, timeout=120)
    assert stop.returncode == 0, output_of(stop)
    for name in RUNNING:
        assert f"{name}: stopped" in stop.stdout, output_of(stop)
    assert stop.stdout.index("orchestrator: stopped") < stop.stdout.index("rapidocr: stopped"), "orchestrator first"
    still_there = [pid for pid in ours if not wait_until(lambda pid=pid: gone(pid), timeout=5)]
    assert not still_there, (still_there, output_of(stop))
    for proc in bystanders:
        assert proc.poll() is None, f"stop.sh killed an unrelated process {proc.args}"

    again = run_script(STOP, deployed.env, timeout=30)
    assert again.returncode == 0 and "Nothing was running" in again.stdout, output_of(again)
    after = run_script(STATUS, deployed.env, timeout=60)
    assert after.returncode == 1, output_of(after)
    assert {name: row["health"] for name, row in status_table(after).items()} == {
        "rapidocr": "down",
        "tesseract": "down",
        "deepseek-ocr": "not installed",
        "mineru": "not installed",
        "orchestrator": "down",
        "front": "down",
    }


def test_startup_refuses_two_services_on_one_port(tmp_path):
    port = str(free_ports(1)[0])
    env, _ = environment(tmp_path, RAPIDOCR_PORT=port, MINERU_PORT=port)
    result = run_script(STARTUP, env, timeout=30)
    assert result.returncode != 0 and f"rapidocr and mineru are both set to port {port}" in result.stderr
    assert not (tmp_path / "run" / "supervisor.sock").exists()


def test_a_port_taken_by_another_process_fails_that_service_only(tmp_path):
    env, ports = environment(tmp_path)
    blocker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, time; s = socket.socket(); "
            f"s.bind(('127.0.0.1', {ports['TESSERACT_PORT']})); s.listen(); time.sleep(120)",
        ]
    )
    try:
        time.sleep(0.5)
        result = run_script(STARTUP, env, timeout=240)
        assert result.returncode == 1, output_of(result)
        assert f"tesseract: FAILED: port {ports['TESSERACT_PORT']} on 127.0.0.1 is taken" in result.stderr
        assert "rapidocr: ready" in result.stdout and "orchestrator: ready" in result.stdout, output_of(result)
    finally:
        blocker.kill()
        run_script(STOP, env, timeout=120)


SETUP = REPO_ROOT / "deployment" / "setup.sh"


def fake_nvidia_smi(tmp_path: Path, gpus: int) -> Path:
    script = tmp_path / "nvidia-smi"
    listing = "".join(f"echo 'GPU {i}: NVIDIA Test GPU (UUID: GPU-{i})'\n" for i in range(gpus))
    script.write_text("#!/bin/sh\n" + listing)
    script.chmod(0o755)
    return script


def test_setup_is_idempotent_and_says_why_gpu_backends_are_skipped(tmp_path):
    """On this CPU machine: the main environment (the test venv, already complete) is checked once,
    then left alone; the GPU backends are skipped with the reason. (MinerU, which also runs without
    its GPU, gets its CPU requirements instead: checked below without an index, so nothing downloads.)"""
    env = {
        **os.environ,
        "VENV": sys.prefix,
        "LOG_DIR": str(tmp_path / "logs"),
        "DEEPSEEK_VENV": str(tmp_path / "deepseek"),
        "MINERU_VENV": str(tmp_path / "mineru"),
        "NVIDIA_SMI": str(fake_nvidia_smi(tmp_path, 0)),
        "SETUP_SERVICES": "main deepseek-ocr",
    }
    first = run_script(SETUP, env, timeout=300)
    assert first.returncode == 0, output_of(first)
    assert "main: installing" in first.stdout or "main: up to date" in first.stdout, output_of(first)
    assert "deepseek-ocr: skipped: no GPU here" in first.stdout, output_of(first)
    assert not (tmp_path / "deepseek").exists()
    assert list(Path(sys.prefix).glob(".setup-*")), "a stamp names the requirements it installed"

    second = run_script(SETUP, env, timeout=60)
    assert second.returncode == 0 and "main: up to date" in second.stdout, output_of(second)
    assert "installing" not in second.stdout, output_of(second)

    # One GPU: deepseek-ocr would install; MinerU (pinned to GPU 1) gets its CPU requirements.
    one_gpu = {
        **env,
        "SETUP_SERVICES": "main deepseek-ocr mineru",
        "NVIDIA_SMI": str(fake_nvidia_smi(tmp_path, 1)),
        "SETUP_GPU": "auto",
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": "",
    }
    third = run_script(SETUP, one_gpu, timeout=300)
    assert (
        "mineru: no GPU 1 here: the CPU requirements (backends/mineru_backend/requirements-cpu.txt)" in third.stdout
    ), output_of(third)
    assert "mineru: FAILED: could not install its requirements" in third.stderr, output_of(third)
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
    fake_tool(
        mineru / "bin" / "mineru-kit",
        f'echo "mineru-kit $* base=$MINERU_MODEL_BASE_DIR" >>{calls}\n'
        'if [[ "$2" == verify ]]; then [[ -d "$MINERU_MODEL_BASE_DIR" ]]; exit; fi\n'
        'mkdir -p "$MINERU_MODEL_BASE_DIR"\n',
    )
    env = {
        **os.environ,
        "VENV": sys.prefix,
        "LOG_DIR": str(tmp_path / "logs"),
        "SETUP_GPU": "none",
        "SETUP_SERVICES": "main",  # the stand-in environments stay as they are (MinerU's would be built for the CPU)
        "DEEPSEEK_VENV": str(deepseek),
        "MINERU_VENV": str(mineru),
        "MODELS_DIR": str(models),
    }
    first = subprocess.run(
        ["bash", str(SETUP), "--models"], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert first.returncode == 0, output_of(first)
    assert calls.read_text().splitlines() == [
        f"hf download deepseek-ai/DeepSeek-OCR --local-dir {models}/DeepSeek-OCR",
        f"mineru-kit models verify --tier standard base={models}/mineru",
        f"mineru-kit models download --tier standard base={models}/mineru",
    ]
    second = subprocess.run(
        ["bash", str(SETUP), "--models"], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert second.returncode == 0, output_of(second)
    assert (
        "deepseek-ocr models: already in" in second.stdout
        and "mineru models: tier standard already in" in second.stdout
    )
    assert len(calls.read_text().splitlines()) == 4, "only MinerU's own check ran again"
