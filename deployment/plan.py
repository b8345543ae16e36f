"""What runs on this machine: the catalogue of services with this machine's settings applied.

Standard library only: setup.sh reads it (``python3 -m deployment.plan shell``) before any virtual
environment exists. Settings come from the environment, then ``deployment/service.env``
(``KEY=value`` lines; the environment wins), then the catalogue's defaults:

    VENV  <PREFIX>_VENV  <PREFIX>_PORT  <PREFIX>_GPU  <PREFIX>_MODEL_PORT (VLMs)  BACKEND_HOST
    ORCHESTRATOR_HOST  ORCHESTRATOR_PORT
    ORCHESTRATOR_INTERNAL_PORT  FRONT (nginx | off)  OCR_BACKENDS  MODELS_DIR (models)  RUN_DIR (run)
    LOG_DIR (logs)  GPU_BACKEND_THREADS

The public port is served by the front proxy (nginx) when FRONT is not ``off`` and nginx is
installed; the orchestrator then listens on loopback behind it. The public address is loopback
unless ORCHESTRATOR_API_KEYS is set or ORCHESTRATOR_HOST names another.

``<PREFIX>`` is each backend's ``env_prefix`` (``DEEPSEEK_PORT``, ``MINERU_GPU``...).

A VLM instance (a catalogue entry with a ``preset``) is two services: ``<name>-server``, its model
server (``vllm serve`` on loopback, on the entry's GPU, started before the backend), and ``<name>``,
the generic VLM backend pointed at it (``VLM_*`` variables, backends/vlm_backend/config.py).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from shared.catalogue import BackendEntry, Catalogue, CatalogueError, catalogue

REPO_ROOT = Path(__file__).resolve().parent.parent
FRONT = "front"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
NGINX_PATHS = ("/usr/sbin/nginx", "/usr/bin/nginx")
#: Set for every CPU backend. glibc gives each thread that allocates its own malloc arena (up to 8
#: per core); the engines' big, varying buffers then stay spread over many arenas and the process
#: grows under load. Two arenas keep it down (bench/soak.py; PLAN.md). What growth is left, a worker
#: above BACKEND_MAX_RSS_MB retires after its request and a fresh one loads the model (1–2 s on a
#: CPU). Not measured on the GPU backends (torch, vLLM; a reload takes minutes), so not set for them.
BACKEND_ENVIRONMENT = {"MALLOC_ARENA_MAX": "2", "BACKEND_MAX_RSS_MB": "2048"}
GUNICORN_CONFIGS = REPO_ROOT / "deployment" / "gunicorn"
SERVICE_ENV_FILE = REPO_ROOT / "deployment" / "service.env"
_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


class PlanError(ValueError):
    """A machine setting is wrong (a port that is no number, two services on one port...)."""


@dataclass(frozen=True)
class Service:
    """One process to run: a backend or the orchestrator, as this machine has it."""

    name: str
    host: str
    port: int
    venv: Path
    app: str
    gunicorn_config: Path
    bind_var: str
    package: Path
    #: Variables set for this service on top of the environment the supervisor inherits.
    environment: dict[str, str] = field(default_factory=dict)
    gpu: int | None = None
    #: The backend's catalogue entry (``None`` for the orchestrator and the front).
    entry: BackendEntry | None = None
    #: A command that is not gunicorn (the front's nginx), and where its readiness is asked.
    argv: tuple[str, ...] = ()
    health_path: str = "/health"
    #: For a VLM's model server: the backend it serves (it needs that backend's GPU).
    serves: str | None = None

    @property
    def is_backend(self) -> bool:
        return self.entry is not None

    @property
    def bind(self) -> str:
        """host:port as gunicorn's --bind wants it (an IPv6 address in brackets)."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def local_url(self) -> str:
        """The service as reached from this machine."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def needs_gpu(self) -> bool:
        """Whether it cannot start without its GPU: a model server, or a backend whose entry says
        ``without_gpu = false``."""
        if self.gpu is None:
            return False
        return self.serves is not None or (self.entry is not None and not self.entry.without_gpu)

    @property
    def priority(self) -> int:
        """supervisord's start order: model servers, then backends, then the orchestrator and front."""
        return 90 if self.serves else 100 if self.is_backend else 200

    @property
    def probe_mode(self) -> str:
        """How deployment/health_probe.py judges it: backends by their model, the orchestrator by an answer."""
        return "model" if self.is_backend else "http"

    def missing(self) -> str | None:
        """Why it cannot start here (no venv, no package), or ``None`` when it is installed."""
        if self.argv:
            return None if Path(self.argv[0]).is_file() else f"no {self.argv[0]}"
        if not (self.venv / "bin" / "gunicorn").is_file():
            return f"no {shown(self.venv)}/bin/gunicorn"
        if not self.package.is_dir():
            return f"no {shown(self.package)}"
        return None

    def not_startable(self, gpus: int) -> str | None:
        """Why it does not start on this machine with ``gpus`` GPUs, or ``None`` when it does."""
        missing = self.missing()
        if missing:
            return f"not installed: {missing}"
        if self.needs_gpu and self.gpu is not None and self.gpu >= gpus:
            return f"no GPU {self.gpu} here (nvidia-smi lists {gpus})"
        return None

    def command(self) -> list[str]:
        if self.argv:  # it exits with supervisord, like the gunicorn masters (see bound_to_parent)
            return [str(self.venv / "bin" / "python"), "-m", "deployment.bound_to_parent", *self.argv]
        return [str(self.venv / "bin" / "python"), "-m", "gunicorn", "-c", str(self.gunicorn_config), self.app]


@dataclass(frozen=True)
class Plan:
    services: list[Service]
    catalogue: Catalogue
    main_venv: Path
    run_dir: Path
    log_dir: Path
    models_dir: Path
    ocr_backends: str
    #: deployment/service.env's settings: every service gets them, so that a change there restarts
    #: the services at the next start even when supervisord runs already.
    machine_settings: dict[str, str] = field(default_factory=dict)
    api_keys_set: bool = False

    @property
    def backends(self) -> list[Service]:
        return [service for service in self.services if service.is_backend]

    @property
    def orchestrator(self) -> Service:
        return self.get("orchestrator")

    @property
    def front(self) -> Service | None:
        return next((service for service in self.services if service.name == FRONT), None)

    @property
    def public(self) -> Service:
        """What clients reach: the front, or the orchestrator itself without one."""
        return self.front or self.orchestrator

    @property
    def exposed_without_key(self) -> bool:
        """Listening beyond loopback with no API key: anyone on the network may use it."""
        return self.public.host not in LOOPBACK and not self.api_keys_set

    def get(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)


def shown(path: Path) -> str:
    """A path relative to the checkout when it lies inside it (for messages)."""
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def load_service_env(environ: MutableMapping[str, str], path: Path = SERVICE_ENV_FILE) -> dict[str, str]:
    """Copy ``KEY=value`` lines of ``path`` into ``environ`` where the key is not set already; return
    the file's keys with their values in effect (the environment's where it set one)."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return {}
    keys = []
    for line in lines:
        match = _LINE.match(line)
        if match:
            keys.append(match.group(1))
            environ.setdefault(match.group(1), match.group(2))
    return {key: environ[key] for key in keys}


def _location(environ: MutableMapping[str, str], name: str, default: str) -> Path:
    """A path setting: given in the environment, relative to the caller's directory (as a shell
    user means it); else the default, relative to the checkout."""
    value = environ.get(name)
    path = Path(value or default)
    return path if path.is_absolute() else (Path.cwd() if value else REPO_ROOT) / path


def _number(environ: MutableMapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 0:
        raise PlanError(f"{name} must be a whole number, not {value!r}")
    return int(value)


def _backend(
    entry: BackendEntry, environ: MutableMapping[str, str], main_venv: Path, host: str, models_dir: Path
) -> Service:
    prefix = entry.env_prefix
    environment = {"PYTHONUNBUFFERED": "1", **(BACKEND_ENVIRONMENT if entry.gpu is None else {})}
    gpu = None
    if entry.gpu is not None:
        gpu = _number(environ, f"{prefix}_GPU", entry.gpu)
        environment["CUDA_VISIBLE_DEVICES"] = str(gpu)
        environment[f"{prefix}_GPU"] = str(gpu)
    threads = environ.get("GPU_BACKEND_THREADS") if entry.gpu is not None else None
    if threads or entry.threads:
        environment["BACKEND_THREADS"] = str(threads or entry.threads)
    # Models fetched by `setup.sh --models`, unless the environment names others.
    for variable, folder in entry.models.items():
        if not environ.get(variable) and (models_dir / folder).is_dir():
            environment[variable] = str(models_dir / folder)
    venv = _location(environ, f"{prefix}_VENV", entry.venv) if entry.venv else main_venv
    port = _number(environ, f"{prefix}_PORT", entry.port)
    if entry.model_server is not None:
        server = entry.model_server
        environment |= {
            "VLM_NAME": entry.name,
            "VLM_PRESET": server.preset,
            "VLM_SERVER_URL": f"http://127.0.0.1:{_number(environ, f'{prefix}_MODEL_PORT', server.port)}",
            "VLM_SERVED_MODEL": server.served_model_name,
        }
    service = Service(
        name=entry.name,
        host=host,
        port=port,
        venv=venv,
        app=entry.app,
        gunicorn_config=GUNICORN_CONFIGS / "backend.conf.py",
        bind_var="BACKEND_BIND",
        package=REPO_ROOT / entry.package,
        environment=environment,
        gpu=gpu,
        entry=entry,
    )
    service.environment["BACKEND_BIND"] = service.bind
    return service


def _model_server(backend: Service, environ: MutableMapping[str, str], models_dir: Path) -> Service:
    """``vllm serve`` for a VLM instance, on loopback, on its backend's GPU, in its backend's venv."""
    assert backend.entry is not None and backend.entry.model_server is not None
    server = backend.entry.model_server
    port = _number(environ, f"{backend.entry.env_prefix}_MODEL_PORT", server.port)
    model = str(models_dir / server.model) if (models_dir / server.model).is_dir() else server.model
    argv = (str(backend.venv / "bin" / "vllm"), "serve", model, "--host", "127.0.0.1", "--port", str(port))
    environment = {"PYTHONUNBUFFERED": "1"}
    if backend.gpu is not None:
        environment["CUDA_VISIBLE_DEVICES"] = str(backend.gpu)
    return Service(
        name=f"{backend.name}-server",
        host="127.0.0.1",
        port=port,
        venv=backend.venv,
        app="vllm serve",
        gunicorn_config=Path(os.devnull),  # not a gunicorn app
        bind_var="",
        package=backend.package,
        environment=environment,
        gpu=backend.gpu,
        argv=(*argv, "--served-model-name", server.served_model_name, *server.server_args),
        serves=backend.name,
    )


def make_plan(
    environ: MutableMapping[str, str] | None = None, services: Catalogue | None = None, *, read_service_env: bool = True
) -> Plan:
    """The plan for this machine. ``environ`` (default ``os.environ``) gets ``service.env``'s values."""
    environ = os.environ if environ is None else environ
    services = services or catalogue()
    settings = (
        load_service_env(environ, Path(environ.get("SERVICE_ENV_FILE") or SERVICE_ENV_FILE)) if read_service_env else {}
    )
    main_venv = _location(environ, "VENV", services.main_venv)
    models_dir = _location(environ, "MODELS_DIR", "models")
    host = environ.get("BACKEND_HOST") or services.backend_host
    backends = [_backend(entry, environ, main_venv, host, models_dir) for entry in services.backends.values()]
    model_servers = [_model_server(b, environ, models_dir) for b in backends if b.entry and b.entry.model_server]
    ocr_backends = environ.get("OCR_BACKENDS") or ",".join(f"{b.name}={b.local_url}" for b in backends)
    entry = services.orchestrator
    run_dir = _location(environ, "RUN_DIR", "run")
    log_dir = _location(environ, "LOG_DIR", "logs")
    api_keys_set = any(
        environ.get(name, "").strip(" ,") for name in ("ORCHESTRATOR_API_KEYS", "ORCHESTRATOR_OPERATOR_KEYS")
    )
    public_host = environ.get("ORCHESTRATOR_HOST") or ("0.0.0.0" if api_keys_set else entry.host)
    public_port = _number(environ, "ORCHESTRATOR_PORT", entry.port)
    nginx = _nginx(environ)
    front = None
    if nginx:
        front = Service(
            name=FRONT,
            host=public_host,
            port=public_port,
            venv=main_venv,
            app="nginx",
            gunicorn_config=run_dir / "nginx.conf",
            bind_var="",
            package=REPO_ROOT / "deployment",
            argv=(nginx, "-e", str(log_dir / "front-error.log"), "-c", str(run_dir / "nginx.conf")),
            health_path="/_front/health",
        )
    orchestrator = Service(
        name="orchestrator",
        host="127.0.0.1" if front else public_host,
        port=_number(environ, "ORCHESTRATOR_INTERNAL_PORT", entry.internal_port) if front else public_port,
        venv=main_venv,
        app=entry.app,
        gunicorn_config=GUNICORN_CONFIGS / entry.gunicorn_config,
        bind_var="ORCHESTRATOR_BIND",
        package=REPO_ROOT / entry.package,
        environment={"PYTHONUNBUFFERED": "1", "OCR_BACKENDS": ocr_backends},
    )
    orchestrator.environment["ORCHESTRATOR_BIND"] = orchestrator.bind
    if front:
        orchestrator.environment["ORCHESTRATOR_BEHIND_FRONT"] = "1"
    everything = model_servers + backends + [orchestrator] + ([front] if front else [])
    owners: dict[tuple[str, int], str] = {}
    for service in everything:
        other = owners.setdefault((service.host, service.port), service.name)
        if other != service.name:
            raise PlanError(f"{other} and {service.name} are both set to port {service.port}")
    return Plan(
        services=everything,
        catalogue=services,
        main_venv=main_venv,
        run_dir=run_dir,
        log_dir=log_dir,
        models_dir=models_dir,
        ocr_backends=ocr_backends,
        machine_settings=settings,
        api_keys_set=api_keys_set,
    )


def installed_nginx() -> str | None:
    """The installed nginx (on PATH, else where Debian puts it), or ``None``."""
    return shutil.which("nginx") or next((path for path in NGINX_PATHS if Path(path).is_file()), None)


def _nginx(environ: MutableMapping[str, str]) -> str | None:
    """nginx's path for the front (``NGINX`` names one), or ``None`` (``FRONT=off``, or nginx not
    installed: the orchestrator then listens on the public port itself)."""
    mode = environ.get("FRONT", "nginx").strip().lower()
    if mode == "off":
        return None
    if mode != "nginx":
        raise PlanError(f"FRONT must be nginx or off, not {mode!r}")
    return environ.get("NGINX") or installed_nginx()  # NGINX: another binary (tests, a build of one's own)


def gpu_count(environ: MutableMapping[str, str] | None = None) -> int:
    """How many GPUs ``nvidia-smi -L`` lists (``NVIDIA_SMI`` names another command); 0 without one."""
    command = (os.environ if environ is None else environ).get("NVIDIA_SMI") or "nvidia-smi"
    if not shutil.which(command):
        return 0
    try:
        listing = subprocess.run([command, "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in listing.splitlines() if re.match(r"GPU \d", line))


def shell_declarations(plan: Plan) -> str:
    """The plan as bash variables, for setup.sh: ``eval "$(python3 -m deployment.plan shell)"``."""

    def array(name: str, values: dict[str, str]) -> str:
        items = " ".join(f"[{shlex.quote(key)}]={shlex.quote(value)}" for key, value in values.items())
        return f"declare -gA {name}=({items})"

    own = [s for s in plan.backends if s.entry and s.entry.venv]
    lines = [
        f"VENV={shlex.quote(str(plan.main_venv))}",
        f"MODELS_DIR={shlex.quote(str(plan.models_dir))}",
        f"LOG_DIR={shlex.quote(str(plan.log_dir))}",
        f"RUN_DIR={shlex.quote(str(plan.run_dir))}",
        f"GPU_COUNT={gpu_count()}",
        f"CATALOGUE_MAIN_EXTRAS={shlex.quote(','.join(plan.catalogue.installed_extras()))}",
        "SERVICES=(" + " ".join(shlex.quote(s.name) for s in plan.services) + ")",
        "OWN_VENV_BACKENDS=(" + " ".join(shlex.quote(s.name) for s in own) + ")",
        array("SERVICE_PORT", {s.name: str(s.port) for s in plan.services}),
        array("SERVICE_VENV", {s.name: str(s.venv) for s in plan.services}),
        array("SERVICE_GPU", {s.name: str(s.gpu) for s in plan.services if s.gpu is not None}),
        # The GPU a backend cannot start without (its catalogue entry says without_gpu = false).
        array(
            "SERVICE_NEEDS_GPU",
            {s.name: str(s.gpu) for s in plan.backends if s.gpu is not None and s.entry and not s.entry.without_gpu},
        ),
        array("SERVICE_PACKAGE", {s.name: str(s.package) for s in plan.services}),
        array(
            "SERVICE_REQUIREMENTS",
            {s.name: str(REPO_ROOT / s.entry.requirements) for s in own if s.entry and s.entry.requirements},
        ),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv != ["shell"]:
        print("usage: python3 -m deployment.plan shell", file=sys.stderr)
        return 2
    try:
        print(shell_declarations(make_plan()), end="")
    except (PlanError, CatalogueError) as exc:
        print(f"deployment: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
