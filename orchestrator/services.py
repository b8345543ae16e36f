"""The objects one orchestrator app holds: its config, backend registry and backend client."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from orchestrator.backend_client import BackendClient
from orchestrator.config import OrchestratorConfig
from orchestrator.registry import BackendRegistry


@dataclass
class Services:
    config: OrchestratorConfig
    registry: BackendRegistry
    client: BackendClient

    @classmethod
    def build(cls, config: OrchestratorConfig) -> "Services":
        return cls(
            config=config,
            registry=BackendRegistry(
                config.backends, health_timeout=config.health_timeout, health_interval=config.health_interval
            ),
            client=BackendClient(connect_timeout=config.connect_timeout, read_timeout=config.read_timeout),
        )


def services() -> Services:
    return current_app.extensions["ocr_orchestrator"]
