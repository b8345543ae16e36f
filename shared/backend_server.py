"""The one HTTP server every backend runs: ``create_backend_app(backend)``.

Routes: ``GET /health``, ``GET /live``, ``GET /ready``, ``GET /metrics``, ``POST /ocr`` (image or PDF,
told by content), ``POST /ocr/image`` and ``POST /ocr/pdf``. No CORS here: browsers talk to the
orchestrator only. With ``BACKEND_TOKEN`` set, every route but ``/live`` wants that token.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client.core import GaugeMetricFamily, Metric

from shared.api_contract import PageResult, build_result, utc_timestamp
from shared.backend_threads import DEFAULT_THREADS, PROBE_THREADS, backend_threads, work_bounds
from shared.boxes_image import draw_boxes
from shared.caller import caller_gone
from shared.config import env_bool, env_float, env_int, env_str
from shared.credentials import BACKEND_TOKEN_HEADER, matches_any, presented
from shared.errors import ModelNotLoaded, Unauthorized
from shared.health import HealthState, backend_state
from shared.http_common import configure_logging, install_common, read_uploaded_file
from shared.metrics import STAGES, render
from shared.ocr_backend import OCRBackend
from shared.options import OCROptions, parse_options
from shared.pdf import inspect_pdf
from shared.probes import live_response, ready_response
from shared.published_options import check_options, publish
from shared.timing import StageTimer, stage
from shared.uploads import DetectedFormat, DocumentKind, UploadLimits, check_route_kind, decode_image, detect_format
from shared.work_gate import WorkGate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackendServerConfig:
    limits: UploadLimits = field(default_factory=UploadLimits)
    max_concurrency: int | None = None  # None: the backend's own default
    log_level: str = "INFO"
    # Load the model in a background thread so /health can say "loading" during a minutes-long GPU load.
    background_load: bool = True
    #: Requests allowed to wait for a slot beyond those running; one more gets 503 + Retry-After.
    #: Never more than the threads allow (:func:`shared.backend_threads.work_bounds`).
    max_queue: int = 32
    #: gunicorn threads of the worker (``BACKEND_THREADS``; deployment/gunicorn/backend.conf.py reads it here).
    threads: int = DEFAULT_THREADS
    retry_after: float = 5.0
    #: The orchestrator's shared token (``BACKEND_TOKEN``); empty: no token wanted.
    token: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> BackendServerConfig:
        concurrency = env_int("BACKEND_MAX_CONCURRENCY", 0, env, minimum=0)
        return cls(
            limits=UploadLimits.from_env(env),
            max_concurrency=concurrency or None,
            log_level=env_str("LOG_LEVEL", cls.log_level, env),
            background_load=env_bool("BACKEND_BACKGROUND_LOAD", cls.background_load, env),
            max_queue=env_int("BACKEND_MAX_QUEUE", cls.max_queue, env, minimum=0),
            threads=backend_threads(env),
            retry_after=env_float("BACKEND_RETRY_AFTER", cls.retry_after, env, minimum=1.0),
            token=env_str("BACKEND_TOKEN", cls.token, env),
        )


class BackendService:
    """The backend, its configuration and its work gate, as one object kept on the app."""

    def __init__(self, backend: OCRBackend, config: BackendServerConfig) -> None:
        self.backend = backend
        self.config = config
        wanted = config.max_concurrency or backend.max_concurrency
        concurrency, max_queue = work_bounds(config.threads, wanted, config.max_queue)
        if concurrency < wanted:
            log.warning(
                "%s: %d requests at once cut to %d: BACKEND_THREADS=%d keeps %d threads for probes",
                backend.name,
                wanted,
                concurrency,
                config.threads,
                PROBE_THREADS,
            )
        self.gate = WorkGate(
            concurrency,
            max_queue=max_queue,
            name=backend.name,
            retry_after=config.retry_after,
        )

    def require_loaded(self) -> None:
        if not self.backend.loaded:
            reason = self.backend.load_error or "the model is still loading; retry shortly"
            raise ModelNotLoaded(f"{self.backend.name} model is not loaded: {reason}")

    def run(
        self,
        data: bytes,
        fmt: DetectedFormat,
        image_name: str | None,
        options: OCROptions,
        abandoned: Callable[[], str | None] | None = None,
    ) -> dict[str, Any]:
        """``abandoned`` (see :mod:`shared.caller`) is asked when the work slot is ours."""
        limits = self.config.limits
        timer = StageTimer()
        warnings: list[str] = []
        with timer.activate():
            if fmt.kind == "image":
                with stage("decode"):
                    image, notes = decode_image(data, fmt, limits)
                warnings += notes
                if options.page_range:
                    warnings.append("option 'page_range' applies to PDFs and was ignored")
                with self.gate.slot(abandoned), stage("inference"):
                    page = self.backend.ocr_image(image, options)
                if options.boxes_image and page.boxes_image is None:
                    with stage("boxes_image"):
                        page.boxes_image = draw_boxes(image, page.blocks)
                pages: list[PageResult] = [page]
            else:
                with stage("decode"):
                    inspect_pdf(data, limits)
                with self.gate.slot(abandoned):
                    pages = self.backend.ocr_pdf(data, options, limits)
            total = timer.total()
        timer.stages["total"] = total
        for name, seconds in timer.stages.items():
            STAGES.labels("backend", self.backend.name, name).observe(seconds)
        effective_options = options.to_json()
        if fmt.kind == "pdf":
            effective_options["dpi"] = self.backend.pdf_dpi(options)
        return build_result(
            backend=self.backend.name,
            model=self.backend.model_id,
            request_id=g.request_id,
            image_name=image_name,
            document_type=fmt.kind,
            pages=[page.to_json(number) for number, page in enumerate(pages, start=1)],
            raw_result=self.backend.raw_result(pages),
            processing_time=total,
            timings=timer.stages,
            options=effective_options,
            warnings=warnings,
        )

    def readiness_problems(self) -> list[str]:
        problems = []
        if backend_state(self.backend.loaded, self.backend.loading) is not HealthState.HEALTHY:
            problems.append(self.backend.load_error or "the model is still loading")
        if self.gate.full():
            problems.append(f"overloaded: the queue is at its bound ({self.gate.max_queue})")
        return problems

    def scrape_figures(self) -> Iterator[Metric]:
        """Model state and GPU memory, read when scraped."""
        name = self.backend.name
        loaded = GaugeMetricFamily("ocr_model_loaded", "1 when the model is loaded", labels=["backend"])
        loaded.add_metric([name], 1.0 if self.backend.loaded else 0.0)
        yield loaded
        if self.backend.load_seconds is not None:
            load = GaugeMetricFamily("ocr_model_load_seconds", "How long loading the model took", labels=["backend"])
            load.add_metric([name], float(self.backend.load_seconds))
            yield load
        torch = sys.modules.get("torch")  # only a backend that uses torch has it; never imported here
        if torch is not None and torch.cuda.is_available():
            memory = GaugeMetricFamily(
                "ocr_gpu_memory_allocated_bytes", "GPU memory held by tensors (torch)", labels=["backend", "device"]
            )
            for index in range(torch.cuda.device_count()):
                memory.add_metric([name, str(index)], float(torch.cuda.memory_allocated(index)))
            yield memory

    def health(self) -> dict[str, Any]:
        info = self.backend.health()
        in_flight, queued = self.gate.counts()
        loaded, loading = self.backend.loaded, self.backend.loading  # read once: the load thread moves them
        return {
            "status": backend_state(loaded, loading).value,
            "model_loaded": loaded,
            "gpu_available": info.gpu_available,
            "backend": self.backend.name,
            "timestamp": utc_timestamp(),
            "device": info.device,
            "model": self.backend.model_id,
            # What the orchestrator's result cache keys on; computed per answer (cheap), since the
            # versions it covers are read while the model loads.
            "fingerprint": self.backend.fingerprint(),
            "in_flight": in_flight,
            "queued": queued,
            "max_concurrency": self.gate.max_concurrency,
            "capacity": self.gate.capacity,
            "reason": self.backend.load_error or ("loading the model" if loading else None),
            "load_seconds": self.backend.load_seconds,
            **dict(info.details),
            # What it takes besides the common options (shared/published_options.py).
            "options": publish(self.backend.option_fields()),
        }


bp = Blueprint("backend", __name__)


def _service() -> BackendService:
    return current_app.extensions["ocr_backend"]


def _handle_ocr(expected_kind: DocumentKind | None) -> Response:
    service = _service()
    upload = read_uploaded_file(service.config.limits)
    fmt = detect_format(upload.data)
    check_route_kind(expected_kind, fmt)
    backend = service.backend
    given = parse_options(request.form.to_dict())
    check_options(given, {backend.name: backend.option_fields()})
    options = backend.check_options(given)
    service.require_loaded()
    result = service.run(upload.data, fmt, upload.filename, options, caller_gone(request.environ, request.headers))
    return jsonify(result)


@bp.post("/ocr")
def ocr_any() -> Response:
    return _handle_ocr(None)


@bp.post("/ocr/image")
def ocr_image() -> Response:
    return _handle_ocr("image")


@bp.post("/ocr/pdf")
def ocr_pdf() -> Response:
    return _handle_ocr("pdf")


@bp.get("/health")
def health() -> Response:
    return jsonify(_service().health())


@bp.get("/live")
def live() -> Response:
    return live_response()


@bp.get("/ready")
def ready() -> tuple[Response, int]:
    return ready_response(_service().readiness_problems())


@bp.get("/metrics")
def metrics() -> Response:
    body, content_type = render([_service().scrape_figures])
    return Response(body, content_type=content_type)


def _check_token(token: str) -> None:
    """With a token configured, only the orchestrator (which sends it) gets past ``/live``."""
    if request.path != "/live" and not matches_any(presented(request.headers, BACKEND_TOKEN_HEADER), [token]):
        raise Unauthorized(f"this backend answers only requests carrying its token ({BACKEND_TOKEN_HEADER})")


def create_backend_app(backend: OCRBackend, config: BackendServerConfig | None = None, *, load: bool = True) -> Flask:
    """The Flask app for one backend. Starts loading the model unless ``load`` is false (tests)."""
    config = config or BackendServerConfig.from_env()
    configure_logging(config.log_level, service=backend.name)
    app = Flask(f"ocr_backend_{backend.name}")
    install_common(app, config.limits, service="backend", backends=[backend.name])

    @app.before_request
    def _name_backend() -> None:
        g.backend_name = backend.name
        if config.token:
            _check_token(config.token)

    app.extensions["ocr_backend"] = BackendService(backend, config)
    app.register_blueprint(bp)
    if load and config.background_load:
        threading.Thread(target=backend.start, name=f"load-{backend.name}", daemon=True).start()
    elif load:
        backend.start()
    return app
