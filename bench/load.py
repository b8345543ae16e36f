#!/usr/bin/env python3
"""Throughput and latency of the bounded load run (the load test's set-up: orchestrator with one
worker and a bound of 28 waiting requests in front of rapidocr, 32 clients, a 64x34 px image, one
request in four OCR'd and the rest answered from the result cache). The test checks correctness;
this prints the figures.

    .venv/bin/python bench/load.py [--requests 2000] [--clients 32] [--bound 28] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import requests
from support import exit_cleanly_on_sigterm, percentile, processes

from tests.integration.test_load import FIELDS, IMAGE
from tests.support.load import run_load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--bound", type=int, default=28)
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args()
    exit_cleanly_on_sigterm()
    logs = Path(tempfile.mkdtemp(prefix="bench-load-"))
    backend_port, orchestrator_port = processes.free_ports(2)
    backend = processes.start_backend("rapidocr", logs, port=backend_port)
    orchestrator = processes.start_orchestrator(
        {"rapidocr": backend.url},
        logs,
        port=orchestrator_port,
        env={
            "ORCHESTRATOR_WORKERS": "1",
            "ORCHESTRATOR_THREADS": str(args.clients),
            "BACKEND_MAX_PENDING": f"rapidocr={args.bound}",
            "RETRY_AFTER": "1",
        },
    )
    try:
        processes.wait_healthy(backend)
        processes.wait_healthy(orchestrator, need_model=False)
        sessions = [requests.Session() for _ in range(args.clients)]
        run_load(
            orchestrator.url + "/ocr",
            IMAGE,
            total=200,
            clients=args.clients,
            bound=args.bound,
            fields=FIELDS,
            sessions=sessions,
            backoff=0.5,
        )  # warm-up
        result = run_load(
            orchestrator.url + "/ocr",
            IMAGE,
            total=args.requests,
            clients=args.clients,
            bound=args.bound,
            fields=FIELDS,
            sessions=sessions,
            backoff=0.5,
        )
    finally:
        orchestrator.stop()
        backend.stop()
    figures = {
        "requests": args.requests,
        "clients": args.clients,
        "bound": args.bound,
        "statuses": {str(k): v for k, v in result.statuses.items()},
        "unintended": len(result.unintended),
        "seconds": round(result.seconds, 2),
        "answers_per_s": round(args.requests / result.seconds, 1),
        "ok_per_s": round(result.statuses[200] / result.seconds, 1),
        "p50_ms": round(percentile(result.latencies, 50) * 1000, 1),
        "p99_ms": round(percentile(result.latencies, 99) * 1000, 1),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
