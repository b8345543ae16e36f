"""The orchestrator's app factory."""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS

from orchestrator import recycling
from orchestrator.access import install_access
from orchestrator.config import OrchestratorConfig
from orchestrator.evaluation_runner import EvaluationRunner
from orchestrator.job_runner import JobRunner
from orchestrator.pipeline import Pipeline
from orchestrator.routes import api_docs, jobs, ocr, pdf, status, web
from orchestrator.routes import evaluations as evaluation_routes
from orchestrator.services import Services
from shared.errors import StateUnavailable
from shared.http_common import REQUEST_ID_HEADER, configure_logging, install_common


def create_app(config: OrchestratorConfig | None = None, *, monitor: bool = True) -> Flask:
    """App factory. ``monitor`` starts the background health poller and database maintenance
    (off in unit tests)."""
    config = config or OrchestratorConfig.from_env()
    configure_logging(config.log_level, service="orchestrator")
    app = Flask("ocr_orchestrator")
    install_common(app, config.limits, service="orchestrator", backends=list(config.backends))
    # CORS lives here and only here: browsers talk to the orchestrator, never to a backend. Never '*'
    # with credentials (the config refuses that pair); the API key travels as a header, not a cookie.
    CORS(
        app,
        origins=config.cors_origins,
        expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
        supports_credentials=config.cors_credentials,
    )
    install_access(app, config)
    svc = Services.build(config)
    app.extensions["ocr_orchestrator"] = svc
    pipeline = Pipeline(svc)
    app.extensions["ocr_pipeline"] = pipeline
    app.extensions["ocr_jobs"] = runner = JobRunner(
        svc.jobs,
        pipeline,
        config.job_workers,
        max_pending=config.job_queue_max,
        max_pending_bytes=config.job_queue_max_bytes,
        retry_after=config.retry_after,
        keep_documents=config.job_keep_documents,
    )
    recycling.watch(runner)  # a worker is never recycled while this runner has jobs
    app.extensions["ocr_evaluations"] = evaluations = EvaluationRunner(
        svc.evaluations,
        pipeline,
        config.evaluation_workers,
        max_pending=config.evaluation_queue_max,
        max_pending_bytes=config.job_queue_max_bytes,
        retry_after=config.retry_after,
    )
    recycling.watch(evaluations)
    # Jobs a previous (now gone) process was running can never finish: say so instead of "running".
    try:
        svc.jobs.fail_orphans()
        svc.evaluations.fail_orphans()
    except StateUnavailable:
        pass  # no database now: sync OCR still serves, the maintenance loop keeps trying it
    for blueprint in (ocr.bp, jobs.bp, pdf.bp, evaluation_routes.bp, status.bp, web.bp, api_docs.bp):
        app.register_blueprint(blueprint)
    if monitor:
        svc.registry.start_monitor()
        svc.maintenance.start()
    return app
