"""Worker recycling counts work requests only and never cuts a job off; pending bounds on backends
stay below a worker's connections by construction."""

from __future__ import annotations

import random
import time
from types import SimpleNamespace

import pytest

from orchestrator import recycling
from orchestrator.config import OrchestratorConfig


class Runner:
    def __init__(self) -> None:
        self.jobs = 0

    def pending(self) -> int:
        return self.jobs


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(recycling, "_runners", [])
    monkeypatch.setattr(recycling, "_state", {"work": 0, "retiring": False, "closing": False})
    monkeypatch.setattr(recycling, "IDLE_CHECK_S", 0.01)
    runner = Runner()
    recycling.watch(runner)
    return runner


def wait_until(condition, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_probes_reads_and_streams_do_not_count(fresh):
    worker = SimpleNamespace(alive=True, pid=1)
    for _ in range(50):
        assert not recycling.count_work(worker, "GET", 3)
    assert worker.alive and recycling._state["work"] == 0


def test_worker_retires_only_after_its_running_job_ends(fresh):
    worker = SimpleNamespace(alive=True, pid=1)
    fresh.jobs = 1  # a long PDF job is running in this worker
    assert not recycling.count_work(worker, "POST", 2)
    assert recycling.count_work(worker, "POST", 2)
    time.sleep(0.1)
    assert worker.alive, "a worker with a running job keeps serving"
    assert not recycling.closing(), "and keeps taking jobs while it waits"
    fresh.jobs = 0
    assert wait_until(lambda: not worker.alive)
    assert recycling.closing(), "from then on a new job is refused (it would be cut off)"


def test_limit_zero_never_recycles_and_limits_spread(fresh):
    worker = SimpleNamespace(alive=True, pid=1)
    for _ in range(100):
        recycling.count_work(worker, "POST", 0)
    assert worker.alive
    limits = {recycling.limit_for(1000, random.Random(seed)) for seed in range(20)}
    assert min(limits) >= 1000 and max(limits) <= 1100 and len(limits) > 1
    assert recycling.limit_for(0) == 0


def test_pending_bounds_stay_below_the_workers_connections():
    backends = {name: [f"http://127.0.0.1:{5000 + i}"] for i, name in enumerate(["rapidocr", "a", "b", "c"])}
    config = OrchestratorConfig(
        backends=backends, worker_connections=100, max_pending={"a": 500}, max_pending_default=64
    )
    bounds = [config.pending_bound(name) for name in backends]
    assert bounds == [18, 18, 18, 18], "three quarters of 100 connections shared by four backends"
    assert sum(bounds) < config.worker_connections
    roomy = OrchestratorConfig(backends=backends, worker_connections=1000)
    assert roomy.pending_bound("rapidocr") == 64, "the configured bound where it fits"
