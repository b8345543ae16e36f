"""The catalogue of services (``deployment/services.toml``), read into typed entries.

Standard library only (plus ``tomli`` on Python 3.10): the deployment scripts read it with the
system's Python before any virtual environment exists, and the orchestrator takes its defaults
from it. ``python3 -m shared.catalogue main-extras`` prints the main venv's pyproject extras.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parent.parent
CATALOGUE_PATH = REPO_ROOT / "deployment" / "services.toml"


class CatalogueError(ValueError):
    """The catalogue file is missing a field or holds a value of the wrong kind."""


@dataclass(frozen=True)
class ModelServerEntry:
    """The model server of a VLM instance (an entry with a ``preset``): ``vllm serve`` on loopback."""

    #: The preset (a module of backends/vlm_backend/presets) that prompts and reads the model.
    preset: str
    #: A folder under ``MODELS_DIR``, or a Hugging Face hub id (vLLM downloads it on first start).
    model: str
    port: int
    #: The name the server serves the model under (``--served-model-name``); the entry's name by default.
    served_model_name: str
    #: Further ``vllm serve`` flags the model needs (``--trust-remote-code``, ``--max-model-len`` ...).
    server_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackendEntry:
    name: str
    env_prefix: str
    port: int
    #: ``None`` on the CPU, else the index of the GPU the backend is pinned to.
    gpu: int | None
    app: str
    package: str
    slice_pages: int
    pdf_concurrency: int
    #: Whether ``make run`` starts it on a machine without a GPU.
    without_gpu: bool
    container_image: str
    smoke_max_cer: float
    smoke_pdf: bool
    #: The smoke gate sends it the rendered image (false: a backend that needs models for images
    #: where it may have none, such as MinerU's flash tier on a CPU).
    smoke_image: bool = True
    #: pyproject extras installed into the main venv (backends sharing it), else empty.
    extras: tuple[str, ...] = ()
    #: Its own venv (relative to the checkout) and requirements file; ``None`` when it uses the main one.
    venv: str | None = None
    requirements: str | None = None
    threads: int | None = None
    #: Environment variable → folder under ``MODELS_DIR``.
    models: dict[str, str] = field(default_factory=dict)
    #: A VLM instance's model server (its entry names a ``preset``); ``None`` for the other backends.
    model_server: ModelServerEntry | None = None


@dataclass(frozen=True)
class OrchestratorEntry:
    port: int
    #: Where the orchestrator itself listens (on loopback) behind the front proxy.
    internal_port: int
    host: str
    app: str
    gunicorn_config: str
    package: str
    container_image: str


@dataclass(frozen=True)
class Catalogue:
    backends: dict[str, BackendEntry]
    orchestrator: OrchestratorEntry
    default_backend: str
    slice_pages: int
    pdf_concurrency: int
    backend_host: str
    main_venv: str
    main_extras: tuple[str, ...]
    #: The smoke gate's CER limit for a backend whose entry sets none (or that is not listed).
    smoke_max_cer: float = 0.10

    def installed_extras(self) -> list[str]:
        """Every extra the main venv gets: its own and those of the backends that share it."""
        extras = list(self.main_extras)
        for backend in self.backends.values():
            extras += [extra for extra in backend.extras if extra not in extras]
        return extras

    def default_urls(self) -> dict[str, list[str]]:
        """Each backend at its catalogue port on the backend host: the orchestrator's default."""
        return {name: [f"http://{self.backend_host}:{entry.port}"] for name, entry in self.backends.items()}

    def slice_size(self, backend: str) -> int:
        entry = self.backends.get(backend)
        return entry.slice_pages if entry else self.slice_pages

    def concurrency_for(self, backend: str) -> int:
        entry = self.backends.get(backend)
        return entry.pdf_concurrency if entry else self.pdf_concurrency


def _take(table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise CatalogueError(f"{where}: missing {key!r}")
        return default
    value = table[key]
    # bool is an int in Python: a port of `true` must not pass.
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
        raise CatalogueError(f"{where}: {key!r} is {value!r}, not {_names(kind)}")
    return value


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _names(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _kinds(kind))


def _positive(value: int, where: str, key: str) -> int:
    if value < 1:
        raise CatalogueError(f"{where}: {key!r} must be at least 1, not {value}")
    return value


def _model_server(name: str, table: dict[str, Any], where: str) -> ModelServerEntry:
    args = _take(table, "server_args", list, where, [])
    if not all(isinstance(arg, str) for arg in args):
        raise CatalogueError(f"{where}: 'server_args' must be a list of strings")
    return ModelServerEntry(
        preset=_take(table, "preset", str, where),
        model=_take(table, "model", str, where),
        port=_positive(_take(table, "model_port", int, where), where, "model_port"),
        served_model_name=_take(table, "served_model_name", str, where, name),
        server_args=tuple(args),
    )


def _backend(name: str, table: dict[str, Any], defaults: dict[str, Any], vlm: dict[str, Any]) -> BackendEntry:
    where = f"[backends.{name}]"
    if "preset" in table:  # a VLM instance: the generic backend's fields come from [vlm]
        table = {**vlm, **table}
    device = _take(table, "device", (str, int), where)
    if isinstance(device, str) and device != "cpu":
        raise CatalogueError(f"{where}: 'device' is {device!r}: say \"cpu\" or a GPU index")
    if isinstance(device, int) and device < 0:
        raise CatalogueError(f"{where}: 'device' {device} is not a GPU index")
    venv = _take(table, "venv", str, where, None)
    requirements = _take(table, "requirements", str, where, None)
    extras = tuple(_take(table, "extras", list, where, []))
    if (venv is None) != (requirements is None):
        raise CatalogueError(f"{where}: give 'venv' and 'requirements' together (its own environment)")
    if venv is not None and extras:
        raise CatalogueError(f"{where}: 'extras' go to the main venv; a backend with its own 'venv' has none")
    threads = _take(table, "threads", int, where, None)
    models = _take(table, "models", dict, where, {})
    return BackendEntry(
        name=name,
        env_prefix=_take(table, "env_prefix", str, where),
        port=_positive(_take(table, "port", int, where), where, "port"),
        gpu=None if device == "cpu" else device,
        app=_take(table, "app", str, where),
        package=_take(table, "package", str, where),
        slice_pages=_positive(_take(table, "slice_pages", int, where, defaults["slice_pages"]), where, "slice_pages"),
        pdf_concurrency=_positive(
            _take(table, "pdf_concurrency", int, where, defaults["pdf_concurrency"]), where, "pdf_concurrency"
        ),
        without_gpu=_take(table, "without_gpu", bool, where),
        container_image=_take(table, "container_image", str, where),
        smoke_max_cer=float(_take(table, "smoke_max_cer", (int, float), where, defaults["smoke_max_cer"])),
        smoke_pdf=_take(table, "smoke_pdf", bool, where, False),
        smoke_image=_take(table, "smoke_image", bool, where, True),
        extras=extras,
        venv=venv,
        requirements=requirements,
        threads=None if threads is None else _positive(threads, where, "threads"),
        models={str(key): str(value) for key, value in models.items()},
        model_server=_model_server(name, table, where) if "preset" in table else None,
    )


def parse_catalogue(data: dict[str, Any]) -> Catalogue:
    defaults = _take(data, "defaults", dict, "catalogue")
    orchestrator = _take(data, "orchestrator", dict, "catalogue")
    tables = _take(data, "backends", dict, "catalogue")
    vlm = _take(data, "vlm", dict, "catalogue", {})
    backends = {name: _backend(name, table, defaults, vlm) for name, table in tables.items()}
    ports = (
        [entry.port for entry in backends.values()]
        + [entry.model_server.port for entry in backends.values() if entry.model_server]
        + [_take(orchestrator, key, int, "[orchestrator]") for key in ("port", "internal_port")]
    )
    if len(set(ports)) != len(ports):
        raise CatalogueError(f"two services share a port: {ports}")
    prefixes = [entry.env_prefix for entry in backends.values()]
    if len(set(prefixes)) != len(prefixes) or "ORCHESTRATOR" in prefixes:
        raise CatalogueError(f"every backend needs its own env_prefix: {prefixes}")
    default_backend = _take(defaults, "default_backend", str, "[defaults]")
    if default_backend not in backends:
        raise CatalogueError(f"[defaults]: default_backend {default_backend!r} is not a backend")
    return Catalogue(
        backends=backends,
        orchestrator=OrchestratorEntry(
            port=_take(orchestrator, "port", int, "[orchestrator]"),
            internal_port=_take(orchestrator, "internal_port", int, "[orchestrator]"),
            host=_take(orchestrator, "host", str, "[orchestrator]"),
            app=_take(orchestrator, "app", str, "[orchestrator]"),
            gunicorn_config=_take(orchestrator, "gunicorn_config", str, "[orchestrator]"),
            package=_take(orchestrator, "package", str, "[orchestrator]"),
            container_image=_take(orchestrator, "container_image", str, "[orchestrator]"),
        ),
        default_backend=default_backend,
        slice_pages=_positive(_take(defaults, "slice_pages", int, "[defaults]"), "[defaults]", "slice_pages"),
        pdf_concurrency=_positive(
            _take(defaults, "pdf_concurrency", int, "[defaults]"), "[defaults]", "pdf_concurrency"
        ),
        backend_host=_take(defaults, "backend_host", str, "[defaults]"),
        main_venv=_take(defaults, "main_venv", str, "[defaults]"),
        main_extras=tuple(_take(defaults, "main_extras", list, "[defaults]")),
        smoke_max_cer=float(_take(defaults, "smoke_max_cer", (int, float), "[defaults]")),
    )


def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except OSError as exc:
        raise CatalogueError(f"cannot read the catalogue of services {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path} is not valid TOML: {exc}") from None
    return parse_catalogue(data)


_CACHED: Catalogue | None = None


def catalogue() -> Catalogue:
    """The checkout's catalogue, read once per process."""
    global _CACHED
    if _CACHED is None:
        _CACHED = load_catalogue()
    return _CACHED


def main(argv: list[str]) -> int:
    if argv == ["main-extras"]:
        print(",".join(catalogue().installed_extras()))
        return 0
    print("usage: python3 -m shared.catalogue main-extras", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
