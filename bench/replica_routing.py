"""Least-work routing over replicas of unequal speed, against plain round robin (what a ClusterIP
Service in front of the pods would do), in-process: the registry's real ``call`` with replicas
simulated by a sleep per request, one request at a time per replica (``max_concurrency`` 1, the rest
queue), e.g. a fast and a slow GPU. Also the registry's own cost per call.

    python bench/replica_routing.py [--requests 400] [--clients 8] [--fast 0.02] [--slow 0.08]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orchestrator.registry import BackendRegistry
from shared.health import HealthState

FAST, SLOW = "http://fast:5000", "http://slow:5000"
GATES = {FAST: threading.Lock(), SLOW: threading.Lock()}  # each replica works on one request at a time


def serve(url: str, seconds: float) -> None:
    with GATES[url]:
        time.sleep(seconds)


def healthy_registry() -> BackendRegistry:
    registry = BackendRegistry({"gpu": [FAST, SLOW]}, health_timeout=1, health_interval=60)
    for replica in registry._replicas["gpu"].values():  # as after a healthy poll reporting no load
        replica.status, replica.model, replica.health = HealthState.HEALTHY, "m", {"in_flight": 0, "queued": 0}
    return registry


def run(route, requests: int, clients: int, seconds: dict[str, float]) -> tuple[float, Counter]:
    served: Counter = Counter()
    lock = threading.Lock()

    def one(_: int) -> None:
        url = route()
        serve(url, seconds[url])
        with lock:
            served[url] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(requests)))
    return requests / (time.perf_counter() - started), served


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--fast", type=float, default=0.02)
    parser.add_argument("--slow", type=float, default=0.08)
    args = parser.parse_args()
    seconds = {FAST: args.fast, SLOW: args.slow}

    registry = healthy_registry()

    def least_work() -> str:
        holder: list[str] = []

        def send(url: str) -> str:
            holder.append(url)
            serve(url, seconds[url])  # queued and served while counted in flight
            return url

        registry.call("gpu", send)
        return holder[0]

    turns = itertools.cycle([FAST, SLOW])
    turn_lock = threading.Lock()

    def round_robin() -> str:
        with turn_lock:
            return next(turns)

    # least_work already slept inside call(); give run() nothing more to wait for.
    lw_rate, lw_served = run(least_work, args.requests, args.clients, {FAST: 0.0, SLOW: 0.0})
    rr_rate, rr_served = run(round_robin, args.requests, args.clients, seconds)
    print(
        f"{args.requests} requests, {args.clients} clients, replicas {args.fast * 1000:.0f} ms and "
        f"{args.slow * 1000:.0f} ms per request"
    )
    print(f"least work : {lw_rate:7.1f} req/s  fast/slow served {lw_served[FAST]}/{lw_served[SLOW]}")
    print(f"round robin: {rr_rate:7.1f} req/s  fast/slow served {rr_served[FAST]}/{rr_served[SLOW]}")
    print(f"ratio      : {lw_rate / rr_rate:.2f}")

    idle = healthy_registry()
    calls = 20000
    started = time.perf_counter()
    for _ in range(calls):
        idle.call("gpu", lambda url: url)
    print(f"registry.call cost: {(time.perf_counter() - started) / calls * 1e6:.1f} µs per request")


if __name__ == "__main__":
    main()
