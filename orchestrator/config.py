"""The orchestrator's configuration, read once from the environment."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shared.config import ConfigError, env_float, env_list, env_str
from shared.uploads import UploadLimits

DEFAULT_BACKENDS = {
    "deepseek-ocr": "http://127.0.0.1:5000",
    "mineru": "http://127.0.0.1:5001",
    "rapidocr": "http://127.0.0.1:5002",
}
DEFAULT_CORS_ORIGINS = ["http://localhost:3000", "http://127.0.0.1:3000"]
REPO_ROOT = Path(__file__).resolve().parent.parent


def parse_backends(spec: str) -> dict[str, str]:
    """``"rapidocr=http://127.0.0.1:5002,mineru=http://gpu-box:5001"`` → ``{name: url}``."""
    backends: dict[str, str] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, url = item.partition("=")
        name, url = name.strip(), url.strip().rstrip("/")
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise ConfigError(f"OCR_BACKENDS entry {item!r} is not like name=http://host:port")
        backends[name] = url
    if not backends:
        raise ConfigError("OCR_BACKENDS names no backend")
    return backends


@dataclass(frozen=True)
class OrchestratorConfig:
    backends: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_BACKENDS))
    default_backend: str = "rapidocr"
    cors_origins: list[str] = field(default_factory=lambda: list(DEFAULT_CORS_ORIGINS))
    connect_timeout: float = 2.0
    read_timeout: float = 300.0
    health_interval: float = 5.0
    health_timeout: float = 2.0
    limits: UploadLimits = field(default_factory=UploadLimits)
    web_client_dir: Path = REPO_ROOT / "web-client" / "dist"
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        if self.default_backend not in self.backends:
            raise ConfigError(
                f"OCR_DEFAULT_BACKEND {self.default_backend!r} is not one of {', '.join(self.backends)}"
            )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "OrchestratorConfig":
        spec = env_str("OCR_BACKENDS", "", env)
        backends = parse_backends(spec) if spec else dict(DEFAULT_BACKENDS)
        return cls(
            backends=backends,
            default_backend=env_str("OCR_DEFAULT_BACKEND", "rapidocr", env),
            cors_origins=env_list("CORS_ORIGINS", DEFAULT_CORS_ORIGINS, env),
            connect_timeout=env_float("BACKEND_CONNECT_TIMEOUT", 2.0, env, minimum=0.01),
            read_timeout=env_float("BACKEND_READ_TIMEOUT", 300.0, env, minimum=0.01),
            health_interval=env_float("HEALTH_INTERVAL", 5.0, env, minimum=0.1),
            health_timeout=env_float("HEALTH_TIMEOUT", 2.0, env, minimum=0.01),
            limits=UploadLimits.from_env(env),
            web_client_dir=Path(env_str("WEB_CLIENT_DIR", str(REPO_ROOT / "web-client" / "dist"), env)),
            log_level=env_str("LOG_LEVEL", "INFO", env),
        )
