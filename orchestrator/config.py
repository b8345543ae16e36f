"""The orchestrator's configuration, read once from the environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shared.catalogue import catalogue
from shared.config import ConfigError, env_bool, env_float, env_int, env_list, env_str
from shared.uploads import UploadLimits

#: A replica URL may start with ``dns+`` (``dns+http://rapidocr-headless:5002``): the registry then
#: resolves the host at every health poll and serves each address as a replica (a Kubernetes
#: headless Service lists one address per ready pod).
URL_SCHEMES = ("http://", "https://", "dns+http://", "dns+https://")
# The backends, their ports and their PDF slicing (pages per slice, slices in flight per orchestrator
# process) come from the catalogue of services, deployment/services.toml; PDF_SLICE_PAGES and
# PDF_CONCURRENCY override them per backend.
SERVICES = catalogue()
DEFAULT_BACKENDS = SERVICES.default_urls()
DEFAULT_CORS_ORIGINS = ["http://localhost:3000", "http://127.0.0.1:3000"]
REPO_ROOT = Path(__file__).resolve().parent.parent


def parse_backends(spec: str) -> dict[str, list[str]]:
    """``"rapidocr=http://a:5002|http://b:5002,mineru=http://gpu-box:5001"`` → ``{name: [url, ...]}``.

    Several URLs (separated by ``|``) are replicas of one backend; the single-URL form is one replica.
    """
    backends: dict[str, list[str]] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, urls = item.partition("=")
        name = name.strip()
        replicas = [url.strip().rstrip("/") for url in urls.split("|")]
        if not sep or not name or not all(url.startswith(URL_SCHEMES) for url in replicas):
            raise ConfigError(f"OCR_BACKENDS entry {item!r} is not like name=http://host:port[|http://host2:port...]")
        if name in backends:
            raise ConfigError(f"OCR_BACKENDS names {name!r} twice (list its replicas in one entry, separated by |)")
        if len(set(replicas)) != len(replicas):
            raise ConfigError(f"OCR_BACKENDS entry {item!r} lists a replica twice")
        backends[name] = replicas
    if not backends:
        raise ConfigError("OCR_BACKENDS names no backend")
    return backends


def parse_per_backend(name: str, spec: str) -> dict[str, int]:
    """``"mineru=8,rapidocr=1"`` → ``{"mineru": 8, "rapidocr": 1}`` (positive integers)."""
    values: dict[str, int] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        backend, sep, number = item.partition("=")
        try:
            value = int(number)
        except ValueError:
            value = 0
        if not sep or not backend.strip() or value < 1:
            raise ConfigError(f"{name} entry {item.strip()!r} is not like backend=<positive integer>")
        values[backend.strip()] = value
    return values


@dataclass(frozen=True)
class OrchestratorConfig:
    backends: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in DEFAULT_BACKENDS.items()})
    default_backend: str = SERVICES.default_backend
    cors_origins: list[str] = field(default_factory=lambda: list(DEFAULT_CORS_ORIGINS))
    connect_timeout: float = 2.0
    read_timeout: float = 300.0
    #: Sending an upload to a backend (a busy one reads the body only when a thread takes it).
    write_timeout: float = 120.0
    health_interval: float = 5.0
    health_timeout: float = 2.0
    #: A replica that was healthy is marked down after this many failures in a row (health polls or
    #: requests that could not reach it); one never seen healthy is down at its first failure.
    replica_max_failures: int = 2
    limits: UploadLimits = field(default_factory=UploadLimits)
    web_client_dir: Path = REPO_ROOT / "web-client" / "dist"
    log_level: str = "INFO"
    #: Jobs, results and the result cache live in SQLite files here.
    data_dir: Path = REPO_ROOT / "data"
    #: Per-backend overrides of the catalogue's PDF slicing (PDF_SLICE_PAGES, PDF_CONCURRENCY).
    slice_pages: dict[str, int] = field(default_factory=dict)
    pdf_concurrency: dict[str, int] = field(default_factory=dict)
    #: ``pdf_mode=auto``: a page whose text layer has at least this many non-blank characters is read
    #: from it instead of being OCR'd.
    text_layer_min_chars: int = 20
    job_workers: int = 4
    #: Seconds a finished job (and its result) is kept.
    job_ttl: float = 86400.0
    #: Keep each job's document with it (its page images are served from it, ``GET /jobs/<id>/pages/<n>/image``).
    job_keep_documents: bool = True
    cache_enabled: bool = True
    cache_max_bytes: int = 512 * 2**20
    #: Seconds a cached result is served; older ones are recomputed (and dropped).
    cache_ttl: float = 7 * 86400.0
    # -- state bounds (#16): orchestrator/maintenance.py keeps them, off the request path ----------
    #: Bytes of finished jobs' documents, pages and results kept; over it the oldest finished jobs go first.
    jobs_max_bytes: int = 2**30
    #: Below this much free space on the data disk no job is accepted and ``/ready`` says 503.
    data_min_free_bytes: int = 64 * 2**20
    #: Seconds between maintenance rounds (quota, cache bound, vacuum, WAL checkpoint, write probe).
    maintenance_interval: float = 5.0
    # -- operations (#8): access, backpressure -----------------------------------------------------
    #: Keys a client must send (``X-API-Key`` or ``Authorization: Bearer``); empty: open to all.
    api_keys: list[str] = field(default_factory=list)
    #: Keys that may also see internal addresses and paths in ``/health`` and ``/backends``; they
    #: are API keys too.
    operator_keys: list[str] = field(default_factory=list)
    #: ``/metrics`` without a key even when keys are configured (for a scraper on a private network).
    metrics_public: bool = False
    #: Sent to every backend as ``X-Backend-Token`` (backends started with the same value want it).
    backend_token: str = ""
    cors_credentials: bool = False
    #: Synchronous requests one process lets wait on a backend at once; one more gets 503. Never more
    #: than the backend's share of :attr:`worker_connections` (see :meth:`pending_bound`).
    max_pending: dict[str, int] = field(default_factory=dict)
    max_pending_default: int = 64
    # -- serving (#16): gunicorn's gevent worker reads these too (deployment/gunicorn/orchestrator.conf.py)
    #: Connections one worker process serves at once (requests, event streams, waits on backends).
    worker_connections: int = 1000
    #: Work requests (``POST``) after which a worker is recycled once its jobs are done; 0: never.
    #: Probes, reads and event streams do not count.
    max_work_requests: int = 10000
    #: Behind the front proxy (deployment/front.py: nginx): trust its ``X-Forwarded-*`` headers for
    #: the client's address, and leave the rate limit to it (it is shared by every process there).
    behind_front: bool = False
    #: Jobs one process holds queued or running; one more gets 503.
    job_queue_max: int = 256
    #: Bytes of documents of the jobs one process holds queued or running; one more gets 503.
    job_queue_max_bytes: int = 512 * 2**20
    #: Evaluations one process runs at once (each runs its documents one after another).
    evaluation_workers: int = 1
    #: Evaluations one process holds queued or running; one more gets 503 (as does one whose
    #: documents would take the evaluations' documents held over ``job_queue_max_bytes``).
    evaluation_queue_max: int = 16
    #: Documents in one labelled set.
    evaluation_max_documents: int = 200
    #: ``Retry-After`` seconds on a 503 for backpressure.
    retry_after: float = 5.0
    #: Requests per minute per client (API key, else address) on the work endpoints; 0: no limit.
    rate_limit_per_minute: float = 0.0
    rate_limit_burst: int = 10

    @property
    def all_keys(self) -> list[str]:
        """Every key that gives access: the API keys and the operator keys."""
        return list(dict.fromkeys([*self.api_keys, *self.operator_keys]))

    def slice_size(self, backend: str) -> int:
        return self.slice_pages.get(backend) or SERVICES.slice_size(backend)

    def concurrency_for(self, backend: str) -> int:
        return self.pdf_concurrency.get(backend) or SERVICES.concurrency_for(backend)

    def pending_bound(self, backend: str) -> int:
        """The configured bound, at most the backend's share of three quarters of a worker's
        connections: requests waiting on backends can never take the connections that probes,
        event streams and the other backends' requests need."""
        return max(1, min(self.max_pending.get(backend, self.max_pending_default), self.backend_share))

    @property
    def backend_share(self) -> int:
        return max(1, (self.worker_connections * 3 // 4) // max(1, len(self.backends)))

    def __post_init__(self) -> None:
        for name, replicas in self.backends.items():
            # A bare string would be iterated character by character as "replicas".
            if isinstance(replicas, str) or not replicas:
                raise ConfigError(f"backend {name!r}: give a list of one or more replica URLs, not {replicas!r}")
        if self.cors_credentials and "*" in self.cors_origins:
            raise ConfigError("CORS_ORIGINS '*' cannot be used with CORS_ALLOW_CREDENTIALS: name the origins")
        if self.default_backend not in self.backends:
            raise ConfigError(f"OCR_DEFAULT_BACKEND {self.default_backend!r} is not one of {', '.join(self.backends)}")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> OrchestratorConfig:
        spec = env_str("OCR_BACKENDS", "", env)
        backends = parse_backends(spec) if spec else {k: list(v) for k, v in DEFAULT_BACKENDS.items()}
        return cls(
            backends=backends,
            default_backend=env_str("OCR_DEFAULT_BACKEND", cls.default_backend, env),
            cors_origins=env_list("CORS_ORIGINS", DEFAULT_CORS_ORIGINS, env),
            connect_timeout=env_float("BACKEND_CONNECT_TIMEOUT", cls.connect_timeout, env, minimum=0.01),
            read_timeout=env_float("BACKEND_READ_TIMEOUT", cls.read_timeout, env, minimum=0.01),
            write_timeout=env_float("BACKEND_WRITE_TIMEOUT", cls.write_timeout, env, minimum=0.01),
            health_interval=env_float("HEALTH_INTERVAL", cls.health_interval, env, minimum=0.1),
            health_timeout=env_float("HEALTH_TIMEOUT", cls.health_timeout, env, minimum=0.01),
            replica_max_failures=env_int("REPLICA_MAX_FAILURES", cls.replica_max_failures, env, minimum=1),
            limits=UploadLimits.from_env(env),
            web_client_dir=Path(env_str("WEB_CLIENT_DIR", str(cls.web_client_dir), env)),
            log_level=env_str("LOG_LEVEL", cls.log_level, env),
            data_dir=Path(env_str("OCR_DATA_DIR", str(cls.data_dir), env)),
            slice_pages=parse_per_backend("PDF_SLICE_PAGES", env_str("PDF_SLICE_PAGES", "", env)),
            pdf_concurrency=parse_per_backend("PDF_CONCURRENCY", env_str("PDF_CONCURRENCY", "", env)),
            text_layer_min_chars=env_int("PDF_TEXT_MIN_CHARS", cls.text_layer_min_chars, env, minimum=1),
            job_workers=env_int("JOB_WORKERS", cls.job_workers, env, minimum=1),
            job_ttl=env_float("JOB_TTL", cls.job_ttl, env, minimum=1.0),
            job_keep_documents=env_bool("JOB_KEEP_DOCUMENTS", cls.job_keep_documents, env),
            cache_enabled=env_bool("CACHE_ENABLED", cls.cache_enabled, env),
            cache_max_bytes=env_int("CACHE_MAX_BYTES", cls.cache_max_bytes, env, minimum=0),
            cache_ttl=env_float("CACHE_TTL", cls.cache_ttl, env, minimum=1.0),
            jobs_max_bytes=env_int("JOBS_MAX_BYTES", cls.jobs_max_bytes, env, minimum=0),
            data_min_free_bytes=env_int("DATA_MIN_FREE_BYTES", cls.data_min_free_bytes, env, minimum=0),
            maintenance_interval=env_float("MAINTENANCE_INTERVAL", cls.maintenance_interval, env, minimum=0.05),
            api_keys=env_list("ORCHESTRATOR_API_KEYS", [], env),
            operator_keys=env_list("ORCHESTRATOR_OPERATOR_KEYS", [], env),
            metrics_public=env_bool("METRICS_PUBLIC", cls.metrics_public, env),
            backend_token=env_str("BACKEND_TOKEN", cls.backend_token, env),
            cors_credentials=env_bool("CORS_ALLOW_CREDENTIALS", cls.cors_credentials, env),
            max_pending=parse_per_backend("BACKEND_MAX_PENDING", env_str("BACKEND_MAX_PENDING", "", env)),
            max_pending_default=env_int("BACKEND_MAX_PENDING_DEFAULT", cls.max_pending_default, env, minimum=1),
            worker_connections=env_int("ORCHESTRATOR_CONNECTIONS", cls.worker_connections, env, minimum=8),
            max_work_requests=env_int("ORCHESTRATOR_MAX_REQUESTS", cls.max_work_requests, env, minimum=0),
            behind_front=env_bool("ORCHESTRATOR_BEHIND_FRONT", cls.behind_front, env),
            job_queue_max=env_int("JOB_QUEUE_MAX", cls.job_queue_max, env, minimum=1),
            job_queue_max_bytes=env_int("JOB_QUEUE_MAX_BYTES", cls.job_queue_max_bytes, env, minimum=1),
            evaluation_workers=env_int("EVALUATION_WORKERS", cls.evaluation_workers, env, minimum=1),
            evaluation_queue_max=env_int("EVALUATION_QUEUE_MAX", cls.evaluation_queue_max, env, minimum=1),
            evaluation_max_documents=env_int("EVALUATION_MAX_DOCUMENTS", cls.evaluation_max_documents, env, minimum=1),
            retry_after=env_float("RETRY_AFTER", cls.retry_after, env, minimum=1.0),
            rate_limit_per_minute=env_float("RATE_LIMIT_PER_MINUTE", cls.rate_limit_per_minute, env, minimum=0.0),
            rate_limit_burst=env_int("RATE_LIMIT_BURST", cls.rate_limit_burst, env, minimum=1),
        )
