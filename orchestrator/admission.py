"""Backpressure for synchronous requests: at most ``BACKEND_MAX_PENDING`` requests per backend wait
on it in this process; one more is refused at once with 503 ``overloaded`` + ``Retry-After`` instead of
queueing without bound. The same :class:`WorkGate` as the backends', with no queue of its own."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager

from orchestrator.config import OrchestratorConfig
from shared.work_gate import WorkGate


class Admission:
    def __init__(self, config: OrchestratorConfig) -> None:
        self._gates = {
            name: WorkGate(
                config.pending_bound(name),
                max_queue=0,
                name=name,
                service="orchestrator",
                retry_after=config.retry_after,
            )
            for name in config.backends
        }

    @contextmanager
    def admit(self, backends: Sequence[str]) -> Iterator[None]:
        """Hold one place on each backend (a comparison needs all of them) or refuse the request."""
        with ExitStack() as stack:
            for name in backends:
                stack.enter_context(self._gates[name].slot())
            yield

    def full(self, backend: str) -> bool:
        return self._gates[backend].full()
