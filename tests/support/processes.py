"""Start the real services (gunicorn with the deployment's configs) on free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from shared.catalogue import catalogue

REPO_ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONFIGS = REPO_ROOT / "deployment" / "gunicorn"
#: The generic VLM backend's app: every VLM instance runs it (its catalogue entry names a preset).
VLM_APP = "backends.vlm_backend.wsgi:app"
#: Each backend's wsgi app, from the catalogue of services (deployment/services.toml), and the VLM
#: backend under ``vlm`` for the tests that start an instance of their own.
BACKEND_APPS = {name: entry.app for name, entry in catalogue().backends.items()} | {"vlm": VLM_APP}


#: A URL where nothing listens, for a backend that is "not running". Port 9 (discard) is closed on
#: any machine that runs these tests; a port from free_port() could be handed to a later service.
UNREACHABLE_URL = "http://127.0.0.1:9"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int) -> list[int]:
    """``count`` different free ports: the sockets stay bound until all are chosen, so the kernel
    cannot hand the same port out twice (separate :func:`free_port` calls can)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def plan_ports() -> dict[str, int]:
    """A free port for every port setting of the deployment plan: the public port, the
    orchestrator's own behind the front, and each backend's ``<PREFIX>_PORT`` (from the catalogue)."""
    names = [
        "ORCHESTRATOR_PORT",
        "ORCHESTRATOR_INTERNAL_PORT",
        *(f"{entry.env_prefix}_PORT" for entry in catalogue().backends.values()),
    ]
    return dict(zip(names, free_ports(len(names)), strict=True))


@dataclass
class Service:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL the master and its workers, as a crash would."""
        for pid in worker_pids(self.process.pid) + [self.process.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn master's child processes."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    try:
        return [int(pid) for pid in children.read_text().split()]
    except OSError:
        return []


def _start(name: str, app: str, config: str, bind_var: str, port: int, env: dict[str, str], log_dir: Path) -> Service:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{port}.log"
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env, bind_var: f"127.0.0.1:{port}"}
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIGS / config), app],
            cwd=REPO_ROOT,
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    return Service(name, port, process, log_path, env)


def start_backend(
    name: str,
    log_dir: Path,
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    app: str | None = None,
) -> Service:
    """Start backend ``name`` (its app from :data:`BACKEND_APPS` unless ``app`` names another)."""
    return _start(
        name, app or BACKEND_APPS[name], "backend.conf.py", "BACKEND_BIND", port or free_port(), env or {}, log_dir
    )


def start_orchestrator(
    backends: dict[str, str], log_dir: Path, *, port: int | None = None, env: dict[str, str] | None = None
) -> Service:
    spec = ",".join(f"{name}={url}" for name, url in backends.items())
    # Its database goes beside its logs: a restart with the same log_dir finds its jobs again.
    merged = {"OCR_BACKENDS": spec, "HEALTH_INTERVAL": "0.5", "OCR_DATA_DIR": str(log_dir / "data"), **(env or {})}
    return _start(
        "orchestrator",
        "orchestrator.wsgi:app",
        "orchestrator.conf.py",
        "ORCHESTRATOR_BIND",
        port or free_port(),
        merged,
        log_dir,
    )


def start_front(
    upstream: Service, log_dir: Path, *, port: int | None = None, env: dict[str, str] | None = None
) -> Service:
    """The standard front (nginx, configured by deployment/front.py as startup.sh does) in front of
    ``upstream``, an orchestrator started with ``ORCHESTRATOR_BEHIND_FRONT=1``."""
    from deployment import front
    from deployment.plan import installed_nginx

    nginx = installed_nginx()
    if nginx is None:
        raise RuntimeError("nginx is not installed (apt-get install -y nginx; `make test` does it)")
    port = port or free_port()
    run_dir = log_dir / f"front-{port}"
    front.prepare_dirs(run_dir)
    settings = front.FrontSettings.from_env({**os.environ, **(env or {})})
    conf = run_dir / "nginx.conf"
    conf.write_text(
        front.render(
            settings,
            listen=f"127.0.0.1:{port}",
            upstream=f"127.0.0.1:{upstream.port}",
            run_dir=run_dir,
            log_dir=run_dir,
        )
    )
    log_path = log_dir / f"front-{port}.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "deployment.bound_to_parent",
                nginx,
                "-e",
                str(run_dir / "error.log"),
                "-c",
                str(conf),
            ],
            cwd=REPO_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    service = Service("front", port, process, log_path, env or {})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {(run_dir / 'error.log').read_text(errors='replace')[-2000:]}")
        try:
            requests.get(service.url + front.FRONT_HEALTH_PATH, timeout=1)
            return service
        except requests.RequestException:
            time.sleep(0.1)
    raise TimeoutError("nginx did not answer")


def wait_healthy(service: Service, timeout: float = 120, *, need_model: bool = True) -> dict:
    """Poll ``/health`` until it answers (and, for a backend, the model is loaded)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited with {service.process.returncode}:\n{service.log()[-3000:]}")
        try:
            body = requests.get(service.url + "/health", timeout=2).json()
            if not need_model or body.get("model_loaded", True):
                return body
            last = str(body)
        except (requests.RequestException, ValueError) as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise TimeoutError(f"{service.name} not healthy after {timeout}s ({last}):\n{service.log()[-3000:]}")


@contextmanager
def backend_behind_orchestrator(
    name: str,
    log_dir: Path,
    *,
    env: dict[str, str],
    app: str | None = None,
    others: dict[str, str] | None = None,
) -> Iterator[tuple[Service, Service]]:
    """Backend ``name`` and an orchestrator in front of it (``others``: more backends, by default a
    rapidocr nobody listens for), both answering ``/health``, whether or not a model loads."""
    backend = start_backend(name, log_dir, env=env, app=app)
    orchestrator = start_orchestrator({name: backend.url, **(others or {"rapidocr": "http://127.0.0.1:9"})}, log_dir)
    try:
        wait_healthy(backend, need_model=False)
        wait_healthy(orchestrator, need_model=False)
        yield backend, orchestrator
    finally:
        orchestrator.stop()
        backend.stop()


def wait_for_reason(url: str, timeout: float = 30) -> dict:
    """A backend's ``/health`` once its model load has finished and failed with a reason."""
    deadline = time.monotonic() + timeout
    health: dict = {}
    while time.monotonic() < deadline:
        health = requests.get(url + "/health", timeout=5).json()
        if health["reason"] and health["status"] != "loading":
            return health
        time.sleep(0.1)
    raise AssertionError(f"no reason in {health}")
