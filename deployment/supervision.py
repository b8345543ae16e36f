"""Start, stop and show the services under supervisord: what startup.sh, stop.sh and status.sh run.

    python -m deployment.supervision start [--foreground] | stop | status | systemd-unit

``start`` writes supervisord's configuration from the plan, starts supervisord (or brings a running
one up to date: only services whose settings changed restart), waits until every service is ready,
runs the smoke gate on the ready backends and prints a table. Exit status 0 when every service that
should run is ready and passed the gate, 1 otherwise. ``--foreground`` (the systemd unit) runs
supervisord in the foreground instead, with the smoke gate as a one-shot program.

Settings besides the plan's (deployment/plan.py): STARTUP_TIMEOUT (180 s), STOP_TIMEOUT (30 s),
LOG_MAX_BYTES (50 MiB), LOG_KEEP (5).
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
import xmlrpc.client
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any

from deployment import front, health_probe, smoke_gate
from deployment import supervisor_config as conf
from deployment.files import write_atomically
from deployment.plan import REPO_ROOT, Plan, PlanError, Service, gpu_count, make_plan, shown
from shared.catalogue import CatalogueError
from shared.health import HealthState

#: Process states (supervisor's names) after which waiting longer will not help.
GAVE_UP = {"FATAL", "EXITED", "STOPPED", "UNKNOWN"}


@dataclass(frozen=True)
class Settings:
    startup_timeout: int
    stop_timeout: int
    logs: conf.LogSettings

    @classmethod
    def from_env(cls, environ: dict[str, str] | os._Environ[str] = os.environ) -> Settings:
        def number(name: str, default: int) -> int:
            value = environ.get(name, "").strip() or str(default)
            if not value.isdigit():
                raise PlanError(f"{name} must be a whole number, not {value!r}")
            return int(value)

        return cls(
            number("STARTUP_TIMEOUT", 180),
            number("STOP_TIMEOUT", 30),
            conf.LogSettings(number("LOG_MAX_BYTES", 50 * 2**20), number("LOG_KEEP", 5)),
        )


class _UnixTransport(xmlrpc.client.Transport):
    """XML-RPC over supervisord's unix socket (its ``unix_http_server``)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = str(path)

    def make_connection(self, host: Any) -> Any:
        connection = super().make_connection("localhost")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(30)
        sock.connect(self._path)
        connection.sock = sock
        return connection


def supervisor(plan: Plan) -> Any:
    """supervisord's ``supervisor.*`` XML-RPC namespace, or ``None`` when no supervisord of ours answers."""
    path = conf.socket_path(plan)
    if not path.exists():
        return None
    proxy = xmlrpc.client.ServerProxy("http://localhost", transport=_UnixTransport(path), allow_none=True)
    rpc: Any = proxy.supervisor
    try:
        if rpc.getState()["statename"] != "RUNNING":
            return None
    except (OSError, HTTPException, xmlrpc.client.Error):
        return None
    return rpc


def processes(rpc: Any) -> dict[str, dict[str, Any]]:
    return {info["name"]: info for info in rpc.getAllProcessInfo()} if rpc else {}


def port_free(host: str, port: int) -> str | None:
    """``None`` when host:port can be bound (SO_REUSEADDR, as gunicorn binds), else why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def log_tail(rpc: Any, name: str, length: int = 3000) -> str:
    try:
        text, _, _ = rpc.tailProcessStdoutLog(name, 0, length)
    except (OSError, xmlrpc.client.Error):
        return ""
    return "\n".join(str(text).splitlines()[-30:])


class Starter:
    """One run of ``start``: what each service became (for the table) and what failed."""

    def __init__(self, plan: Plan, settings: Settings) -> None:
        self.plan, self.settings = plan, settings
        self.status: dict[str, str] = {}
        self.pids: dict[str, int] = {}
        self.failed: list[str] = []

    def fail(self, name: str, why: str) -> None:
        self.status[name] = f"FAILED: {why}"
        self.failed.append(name)
        print(f"{name}: FAILED: {why}", file=sys.stderr)

    def choose(self, running: dict[str, dict[str, Any]]) -> list[Service]:
        """The services to run here: installed, with their GPU, and a free port unless ours holds it."""
        gpus = gpu_count()
        chosen = []
        for service in self.plan.services:
            why = service.not_startable(gpus)
            if why:
                hint = "deployment/setup.sh on a GPU machine" if service.gpu is not None else "make setup"
                print(f"{service.name}: {why}; skipped (run: {hint})")
                self.status[service.name] = (
                    "skipped (not installed)" if why.startswith("not installed") else f"skipped ({why})"
                )
                continue
            if running.get(service.name, {}).get("statename") != "RUNNING":
                busy = port_free(service.host, service.port)
                if busy:
                    self.fail(
                        service.name, f"port {service.port} on {service.host} is taken by another process ({busy})"
                    )
                    continue
            chosen.append(service)
        return chosen

    def apply(self, rpc: Any, before: dict[str, dict[str, Any]], chosen: list[Service]) -> Any:
        """Start supervisord with the configuration, or bring the running one (``rpc``, whose
        processes were ``before``) up to date."""
        write_front_config(self.plan)
        conf.write(
            self.plan, conf.render(self.plan, chosen, logs=self.settings.logs, stop_timeout=self.settings.stop_timeout)
        )
        if rpc is None:
            self.launch()
            rpc = supervisor(self.plan)
        else:
            added, changed, removed = rpc.reloadConfig()[0]
            for name in changed + removed:
                rpc.stopProcessGroup(name)
                rpc.removeProcessGroup(name)
            for name in added + changed:
                rpc.addProcessGroup(name)
        now = processes(rpc)
        for name in [s.name for s in self.plan.services if s.name in now]:
            info, old = now[name], before.get(name, {})
            if old.get("statename") == "RUNNING" and old.get("pid") == info["pid"]:
                self.status[name] = "already running"
                print(f"{name}: already running (pid {info['pid']}), not started again")
            elif name in {s.name for s in chosen}:
                self.status[name] = "started"
                print(f"{name}: starting on {self.plan.get(name).bind} (log {shown(conf.log_path(self.plan, name))})")
        return rpc

    def launch(self) -> None:
        command = [str(self.plan.main_venv / "bin" / "supervisord"), "-c", str(conf.config_path(self.plan))]
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=REPO_ROOT)
        deadline = time.monotonic() + 15
        while supervisor(self.plan) is None:
            if time.monotonic() > deadline or result.returncode != 0:
                raise PlanError(f"supervisord did not start: {(result.stderr or result.stdout).strip()}")
            time.sleep(0.1)

    def wait_ready(self, rpc: Any, names: list[str]) -> list[str]:
        """Poll each service's health until it is ready, gives up, or STARTUP_TIMEOUT passes."""
        opener = health_probe.opener()
        pending = list(names)
        deadline = time.monotonic() + self.settings.startup_timeout
        detail: dict[str, str] = {}
        ready: list[str] = []
        for name in names:
            print(
                f"{name}: waiting for {self.plan.get(name).local_url}{self.plan.get(name).health_path} "
                f"(up to {self.settings.startup_timeout}s)"
            )
        while pending:
            for name in list(pending):
                service = self.plan.get(name)
                code, detail[name] = health_probe.probe(
                    opener, service.local_url + service.health_path, service.probe_mode
                )
                info = rpc.getProcessInfo(name)
                self.pids[name] = info["pid"]
                if code == health_probe.READY:
                    self.status[name] = "ready (already running)" if self.status[name] == "already running" else "ready"
                    print(f"{name}: ready ({detail[name]})")
                    ready.append(name)
                elif code == health_probe.UNAVAILABLE:
                    self.fail(name, f"model not loaded: {detail[name]}")
                    print(f"{name}: left running (pid {info['pid']}); its /health reports the reason", file=sys.stderr)
                elif info["statename"] in GAVE_UP:
                    self.fail(
                        name, f"exited during startup ({info['statename']}: {info['spawnerr'] or info['description']})"
                    )
                    self.show_log(rpc, name)
                else:
                    continue
                pending.remove(name)
            if pending and time.monotonic() > deadline:
                for name in pending:
                    self.fail(name, f"not ready after {self.settings.startup_timeout}s ({detail.get(name)})")
                    self.show_log(rpc, name)
                break
            time.sleep(0.3)
        return ready

    def show_log(self, rpc: Any, name: str) -> None:
        print(
            f"---- last lines of {shown(conf.log_path(self.plan, name))} ----\n{log_tail(rpc, name)}\n"
            f"---- end of {shown(conf.log_path(self.plan, name))} ----",
            file=sys.stderr,
        )

    def smoke(self, backends: list[str]) -> None:
        """The real OCR gate: known text through the orchestrator to each ready backend."""
        results = smoke_gate.run_gate(self.plan, backends)
        smoke_gate.write_results(smoke_gate.results_path(self.plan), results)
        for name, result in results.items():
            if result["passed"]:
                print(smoke_gate.summary_line(name, result))
                self.status[name] += ", smoke pass"
            else:
                self.fail(name, f"smoke gate: {result['detail']}")

    def table(self) -> None:
        print(f"\n{'SERVICE':<14} {'PORT':<6} {'PID':<8} STATUS")
        for service in self.plan.services:
            pid = str(self.pids.get(service.name) or "-")
            print(f"{service.name:<14} {service.port:<6} {pid:<8} {self.status.get(service.name, 'not started')}")
        print()


def write_front_config(plan: Plan) -> None:
    """nginx's configuration for the front, from the plan and this machine's settings. Its digest
    goes into the front's environment, so that supervisord restarts nginx when it changes."""
    if plan.front is None:
        return
    text = front.render(
        front.FrontSettings.from_env(),
        listen=plan.front.bind,
        upstream=plan.orchestrator.bind,
        run_dir=plan.run_dir,
        log_dir=plan.log_dir,
    )
    front.prepare_dirs(plan.run_dir)
    write_atomically(plan.front.gunicorn_config, text)
    plan.front.environment["FRONT_CONFIG_DIGEST"] = hashlib.sha256(text.encode()).hexdigest()[:16]


def start(plan: Plan, settings: Settings) -> int:
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    plan.log_dir.mkdir(parents=True, exist_ok=True)
    starter = Starter(plan, settings)
    running = supervisor(plan)
    before = processes(running)
    chosen = starter.choose(before)
    rpc = starter.apply(running, before, chosen)
    backends = [s.name for s in chosen if s.is_backend and s.name not in starter.failed]
    entry = [s.name for s in (plan.orchestrator, plan.front) if s is not None and s in chosen]
    ready = starter.wait_ready(rpc, backends + entry)
    serving = all(name in ready for name in entry) and "orchestrator" in entry
    if serving:
        starter.smoke([name for name in backends if name in ready])
    starter.table()
    if plan.exposed_without_key:
        print(
            f"WARNING: listening on {plan.public.host}:{plan.public.port} with no API key: anyone who can reach "
            "this machine can use the service. Set ORCHESTRATOR_API_KEYS (deployment/service.env), or leave "
            "ORCHESTRATOR_HOST unset to listen on loopback only.",
            file=sys.stderr,
        )
    stop_command = (
        "deployment/stop.sh" if plan.run_dir == REPO_ROOT / "run" else f"RUN_DIR={plan.run_dir} deployment/stop.sh"
    )
    if serving:
        url = plan.public.local_url.replace("127.0.0.1", "localhost")
        example = f"curl -F file=@page.png -F backend={plan.catalogue.default_backend} {url}/ocr"
        print(f"Orchestrator: {url}  (try: {example})")
    print(f"Logs: {shown(plan.log_dir)}/   Status: deployment/status.sh   Stop: {stop_command}")
    if starter.failed:
        print(
            f"Failed: {' '.join(starter.failed)}. Whatever else is running is left running (stop all: {stop_command}).",
            file=sys.stderr,
        )
        return 1
    return 0


def foreground(plan: Plan, settings: Settings) -> int:
    """For the systemd unit: supervisord in the foreground (it exits when systemd stops it)."""
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    plan.log_dir.mkdir(parents=True, exist_ok=True)
    gpus = gpu_count()
    chosen = [service for service in plan.services if service.not_startable(gpus) is None]
    write_front_config(plan)
    path = conf.write(
        plan,
        conf.render(
            plan,
            chosen,
            logs=settings.logs,
            stop_timeout=settings.stop_timeout,
            foreground=True,
            smoke_wait=settings.startup_timeout,
        ),
    )
    supervisord = str(plan.main_venv / "bin" / "supervisord")
    os.execv(supervisord, [supervisord, "-n", "-c", str(path)])
    return 1  # not reached


def stop(plan: Plan, settings: Settings) -> int:
    rpc = supervisor(plan)
    if rpc is None:
        print("Nothing was running.")
        return 0
    # The front and the orchestrator first, so requests still in them can finish on backends that are up.
    infos = processes(rpc)
    order = sorted(infos, key=lambda name: (name != "front", name != "orchestrator"))
    for name in order:
        info = infos[name]
        if info["statename"] in ("RUNNING", "STARTING", "BACKOFF"):
            print(f"{name}: stopping pid {info['pid']} (SIGTERM; gunicorn finishes in-flight requests)")
            try:
                rpc.stopProcess(name, True)
            except xmlrpc.client.Fault as fault:
                print(f"{name}: {fault.faultString}")
            print(f"{name}: stopped (pid {info['pid']})")
    pid = rpc.getPID()
    rpc.shutdown()
    deadline = time.monotonic() + settings.stop_timeout + 10
    while health_probe.alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    print(f"supervisord: stopped (pid {pid})")
    return 0


def status(plan: Plan) -> int:
    """The table: SERVICE PORT PID GPU SMOKE HEALTH; exit 0 when every installed service is healthy
    and none failed its last smoke gate."""
    rpc = supervisor(plan)
    infos = processes(rpc)
    results = smoke_gate.read_results(smoke_gate.results_path(plan))
    opener = health_probe.opener()
    gpus = gpu_count()
    bad = 0
    print(f"{'SERVICE':<14} {'PORT':<6} {'PID':<8} {'GPU':<4} {'SMOKE':<6} HEALTH")
    for service in plan.services:
        info = infos.get(service.name, {})
        pid = str(info.get("pid") or "-")
        gpu = "-" if service.gpu is None else str(service.gpu)
        smoke = smoke_gate.format_cell(results.get(service.name)) if service.is_backend else "-"
        health, expected = _health(service, info, opener, gpus)
        if (expected and health != HealthState.HEALTHY) or smoke == "FAIL":
            bad += 1
        print(f"{service.name:<14} {service.port:<6} {pid:<8} {gpu:<4} {smoke:<6} {health}")
    if rpc is not None:
        print(f"\nsupervisord: pid {rpc.getPID()}; logs in {shown(plan.log_dir)}/")
    for name, result in results.items():
        if not result.get("passed"):
            print(f"smoke {name}: {result.get('detail')}")
    _gpu_lines(gpus)
    return 1 if bad else 0


def _health(service: Service, info: dict[str, Any], opener: Any, gpus: int) -> tuple[str, bool]:
    """The HEALTH column, and whether the service should run here (so that anything but healthy is bad)."""
    why = service.not_startable(gpus)
    if why and not info:
        return ("not installed" if why.startswith("not installed") else why), False
    code, detail = health_probe.probe(opener, service.local_url + service.health_path, service.probe_mode)
    if code == health_probe.READY:
        return HealthState.HEALTHY.value, True
    if code == health_probe.UNAVAILABLE:
        return f"{HealthState.UNAVAILABLE.value}: {detail}", True
    if code == health_probe.LOADING:
        return HealthState.LOADING.value, True
    state = info.get("statename")
    if state in ("STARTING", "BACKOFF", "RUNNING"):
        return f"starting ({state.lower()}; no answer yet: {detail})", True
    return (f"down ({state.lower()})" if state else "down"), True


def _gpu_lines(gpus: int) -> None:
    if gpus == 0:
        return
    try:
        listing = subprocess.run(
            [
                os.environ.get("NVIDIA_SMI") or "nvidia-smi",
                "--query-gpu=index,name,memory.used,memory.total,utilization.gpu",
                "--format=csv,noheader",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return
    print("\n" + "".join(f"GPU {line}\n" for line in listing.splitlines()), end="")


def systemd_unit(plan: Plan, user: str) -> str:
    """A unit that starts everything at boot (supervisord in the foreground, as the unit's main process)."""
    startup, stop_script = REPO_ROOT / "deployment" / "startup.sh", REPO_ROOT / "deployment" / "stop.sh"
    return f"""# The OCR service: every service in deployment/services.toml under supervisord, started at boot.
# Install: deployment/systemd-unit | sudo tee /etc/systemd/system/ocr-service.service
#          sudo systemctl daemon-reload && sudo systemctl enable --now ocr-service
[Unit]
Description=Multi-backend OCR service (orchestrator and backends under supervisord)
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User={user}
WorkingDirectory={REPO_ROOT}
Environment=RUN_DIR={plan.run_dir} LOG_DIR={plan.log_dir}
ExecStart={startup} --foreground
ExecStop={stop_script}
Restart=on-failure
RestartSec=5
TimeoutStopSec=120
KillMode=mixed

[Install]
WantedBy=multi-user.target
"""


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    try:
        plan = make_plan()
        settings = Settings.from_env()
        if command == "start" and argv[1:] == ["--foreground"]:
            return foreground(plan, settings)
        if command == "start" and len(argv) == 1:
            return start(plan, settings)
        if command == "stop" and len(argv) == 1:
            return stop(plan, settings)
        if command == "status" and len(argv) == 1:
            return status(plan)
        if command == "systemd-unit" and len(argv) <= 2:
            print(systemd_unit(plan, argv[1] if len(argv) == 2 else os.environ.get("USER") or "root"), end="")
            return 0
    except (PlanError, CatalogueError, ValueError) as exc:
        print(f"deployment: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `status.sh | head`: the reader left; no traceback for that
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    print(__doc__.splitlines()[2].strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
