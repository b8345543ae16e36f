"""The objects one orchestrator app holds: config, backend registry and client, the database with
its job store, result cache and maintenance loop."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from orchestrator.admission import Admission
from orchestrator.backend_client import BackendClient
from orchestrator.config import OrchestratorConfig
from orchestrator.database import Database
from orchestrator.evaluation_store import EvaluationStore
from orchestrator.job_store import JobStore
from orchestrator.maintenance import Maintenance
from orchestrator.registry import BackendRegistry
from orchestrator.result_cache import ResultCache

DATABASE_FILE = "orchestrator.sqlite3"


@dataclass
class Services:
    config: OrchestratorConfig
    registry: BackendRegistry
    client: BackendClient
    database: Database
    jobs: JobStore
    evaluations: EvaluationStore
    cache: ResultCache
    admission: Admission
    maintenance: Maintenance

    @classmethod
    def build(cls, config: OrchestratorConfig) -> Services:
        database = Database(config.data_dir / DATABASE_FILE)
        jobs = JobStore(database, ttl=config.job_ttl)
        evaluations = EvaluationStore(database, ttl=config.job_ttl)
        cache = ResultCache(database, config.cache_max_bytes if config.cache_enabled else 0, ttl=config.cache_ttl)
        return cls(
            config=config,
            registry=BackendRegistry(
                config.backends,
                health_timeout=config.health_timeout,
                health_interval=config.health_interval,
                max_failures=config.replica_max_failures,
                token=config.backend_token,
            ),
            client=BackendClient(
                connect_timeout=config.connect_timeout,
                read_timeout=config.read_timeout,
                write_timeout=config.write_timeout,
                token=config.backend_token,
            ),
            database=database,
            jobs=jobs,
            evaluations=evaluations,
            cache=cache,
            admission=Admission(config),
            maintenance=Maintenance(
                database,
                jobs,
                cache,
                interval=config.maintenance_interval,
                jobs_max_bytes=config.jobs_max_bytes,
                min_free_bytes=config.data_min_free_bytes,
                evaluations=evaluations,
            ),
        )


def services() -> Services:
    return current_app.extensions["ocr_orchestrator"]
