#!/usr/bin/env python3
"""Cheap hostile connections against the orchestrator, four ways side by side in one run: gthread
workers (2 × 32 threads, the old default) or gevent workers, each with the nginx front or without.

Per arm: 200 open event streams on a running job, 100 connections sending one header line a second
and 50 uploads sending a kilobyte a second, all from one client; then ``/live`` is asked 10 times and
an OCR request goes to another backend (an echo backend: no model, so the time is the service's).
Arms alternate over rounds so the machine's noise falls on all of them.

    .venv/bin/python bench/starvation.py [--rounds 2] [--streams 200] [--slow-headers 100] [--slow-uploads 50]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import requests
from support import exit_cleanly_on_sigterm, percentile

from tests.support.documents import text_image
from tests.support.hostile import Crowd, stack

ARMS = {
    "gthread, no front": ({"ORCHESTRATOR_WORKER_CLASS": "gthread"}, False),
    "gthread + nginx": ({"ORCHESTRATOR_WORKER_CLASS": "gthread"}, True),
    "gevent, no front": ({"ORCHESTRATOR_WORKER_CLASS": "gevent"}, False),
    "gevent + nginx": ({"ORCHESTRATOR_WORKER_CLASS": "gevent"}, True),
}
PROBE_TIMEOUT_S = 5.0


def run_arm(env: dict[str, str], front: bool, args: argparse.Namespace) -> dict[str, float]:
    page = text_image(["starvation"])
    with (
        tempfile.TemporaryDirectory() as tmp,
        stack(Path(tmp), {"echo": {}, "slow": {"ECHO_DELAY_S": "60"}}, env=env, front=front) as system,
    ):
        job = requests.post(
            system.url + "/jobs",
            files={"file": ("p.png", page, "image/png")},
            data={"backend": "slow", "cache": "false"},
            timeout=10,
        ).json()
        crowd = Crowd("127.0.0.1", system.entry.port)
        try:
            crowd.open(job["job_id"], args.streams, args.slow_headers, args.slow_uploads)
            time.sleep(3)
            live: list[float] = []
            for _ in range(10):
                started = time.monotonic()
                try:
                    requests.get(system.url + "/live", timeout=PROBE_TIMEOUT_S).raise_for_status()
                    live.append(time.monotonic() - started)
                except requests.RequestException:
                    live.append(PROBE_TIMEOUT_S)
            started = time.monotonic()
            try:
                ok = requests.post(
                    system.url + "/ocr",
                    files={"file": ("p.png", page, "image/png")},
                    data={"backend": "echo", "cache": "false"},
                    timeout=PROBE_TIMEOUT_S * 2,
                ).ok
            except requests.RequestException:
                ok = False
            ocr_s = time.monotonic() - started
            served = crowd.served_streams()
        finally:
            crowd.close()
    return {
        "live_p50_s": percentile(live, 50),
        "live_max_s": max(live),
        "live_failed": sum(1 for value in live if value >= PROBE_TIMEOUT_S),
        "ocr_ok": float(ok),
        "ocr_s": ocr_s,
        "streams_served": float(served),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--slow-headers", type=int, default=100)
    parser.add_argument("--slow-uploads", type=int, default=50)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    exit_cleanly_on_sigterm()
    results: dict[str, list[dict[str, float]]] = {name: [] for name in ARMS}
    for round_number in range(args.rounds):
        for name, (env, front) in ARMS.items():
            results[name].append(run_arm(env, front, args))
            print(f"round {round_number + 1} {name}: {results[name][-1]}", flush=True)
    crowd = f"{args.streams} event streams + {args.slow_headers} slow-header + {args.slow_uploads} slow-upload"
    print(f"\n{crowd} connections\n")
    print(
        "| arm | /live p50 | /live worst | /live timeouts (of 10 × rounds) | OCR to another backend | streams served |"
    )
    print("|---|---|---|---|---|---|")
    for name, runs in results.items():
        p50 = max(run["live_p50_s"] for run in runs)
        worst = max(run["live_max_s"] for run in runs)
        failed = sum(int(run["live_failed"]) for run in runs)
        ocr_ok = sum(int(run["ocr_ok"]) for run in runs)
        ocr_s = max(run["ocr_s"] for run in runs)
        streams = min(int(run["streams_served"]) for run in runs)
        print(
            f"| {name} | {p50 * 1000:.0f} ms | {worst * 1000:.0f} ms | {failed} | {ocr_ok}/{len(runs)} ok, "
            f"worst {ocr_s:.2f} s | {streams}/{args.streams} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
