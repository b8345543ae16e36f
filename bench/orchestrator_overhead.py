#!/usr/bin/env python3
"""What the orchestrator adds to a request: the same ~1 MB image sent straight to a backend and
through the orchestrator, in alternating windows of one run, at 1 and 8 concurrent clients.

The backend is the real backend server factory under gunicorn with a model-free stand-in
(bench/echo_backend.py), so OCR time does not drown the figure; ``--rapidocr`` adds a run against the
real rapidocr backend (1 client) for scale. Targets (issue #2): added p50 < 5 ms, throughput ratio >= 0.8.

    .venv/bin/python bench/orchestrator_overhead.py [--window 2] [--windows 5] [--rapidocr]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from support import exit_cleanly_on_sigterm, percentile, processes, scanned_page


@dataclass
class Arm:
    """One way of sending the request, with what it measured over all its windows."""

    name: str
    url: str
    fields: dict[str, str]
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def run_window(arm: Arm, image: bytes, clients: int, seconds: float) -> None:
    """``clients`` threads send requests back to back for ``seconds``; each keeps its connection."""
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        session = requests.Session()
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = session.post(
                arm.url, files={"file": ("page.jpg", image, "image/jpeg")}, data=arm.fields, timeout=120
            )
            elapsed = time.perf_counter() - started
            with lock:
                if response.status_code == 200:
                    arm.latencies.append(elapsed)
                else:
                    arm.errors += 1
        session.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    arm.seconds += time.perf_counter() - started


def compare(
    direct_url: str, orchestrator_url: str, backend: str, image: bytes, clients: int, windows: int, window_s: float
) -> dict:
    direct = Arm("direct", direct_url + "/ocr", {})
    # cache=false: the same page every time would otherwise be answered from the result cache.
    through = Arm("orchestrator", orchestrator_url + "/ocr", {"backend": backend, "cache": "false"})
    for arm in (direct, through):  # warm connections and code paths, not counted
        run_window(Arm(arm.name, arm.url, arm.fields), image, clients, min(window_s, 1.0))
    for window in range(windows):
        order = (direct, through) if window % 2 == 0 else (through, direct)
        for arm in order:
            run_window(arm, image, clients, window_s)
    result = {
        "backend": backend,
        "clients": clients,
        "requests": {"direct": len(direct.latencies), "orchestrator": len(through.latencies)},
        "errors": {"direct": direct.errors, "orchestrator": through.errors},
    }
    for q, label in ((50, "p50"), (99, "p99")):
        d, o = percentile(direct.latencies, q), percentile(through.latencies, q)
        result[f"direct_{label}_ms"] = round(d * 1000, 2)
        result[f"orchestrator_{label}_ms"] = round(o * 1000, 2)
        result[f"added_{label}_ms"] = round((o - d) * 1000, 2)
    result["direct_rps"] = round(direct.throughput, 2)
    result["orchestrator_rps"] = round(through.throughput, 2)
    result["throughput_ratio"] = round(through.throughput / direct.throughput, 3) if direct.throughput else None
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--window", type=float, default=2.0, help="seconds per window (default 2)")
    parser.add_argument("--windows", type=int, default=6, help="windows per arm (default 6)")
    parser.add_argument("--clients", default="1,8", help="concurrency levels (default 1,8)")
    parser.add_argument("--rapidocr", action="store_true", help="also measure against the real rapidocr backend")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args()
    exit_cleanly_on_sigterm()

    image = scanned_page(target_bytes=1_000_000)
    print(f"image: {len(image) / 1e6:.2f} MB JPEG")
    log_dir = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    services = {"echo": processes.start_backend("echo", log_dir, app="bench.echo_backend:app")}
    if args.rapidocr:
        services["rapidocr"] = processes.start_backend("rapidocr", log_dir)
    orchestrator = processes.start_orchestrator(
        {name: s.url for name, s in services.items()},
        log_dir,
        env={"OCR_DEFAULT_BACKEND": "echo", "HEALTH_INTERVAL": "5"},
    )
    results = []
    try:
        for service in services.values():
            processes.wait_healthy(service)
        processes.wait_healthy(orchestrator, need_model=False)
        for name, service in services.items():
            # rapidocr runs one page at a time (seconds each): more clients would only queue.
            levels = [int(c) for c in args.clients.split(",")] if name == "echo" else [1]
            for clients in levels:
                result = compare(service.url, orchestrator.url, name, image, clients, args.windows, args.window)
                results.append(result)
                print(json.dumps(result))
    finally:
        orchestrator.stop()
        for service in services.values():
            service.stop()
        shutil.rmtree(log_dir, ignore_errors=True)  # a start-up failure already showed its log tail

    print(
        f"\n{'backend':9} {'clients':>7} {'direct p50':>11} {'added p50':>10} {'added p99':>10} "
        f"{'direct rps':>10} {'orch rps':>9} {'ratio':>6}"
    )
    for r in results:
        print(
            f"{r['backend']:9} {r['clients']:>7} {r['direct_p50_ms']:>9.1f}ms {r['added_p50_ms']:>8.2f}ms "
            f"{r['added_p99_ms']:>8.2f}ms {r['direct_rps']:>10.2f} {r['orchestrator_rps']:>9.2f} "
            f"{r['throughput_ratio']:>6.3f}"
        )
    print("targets: added p50 < 5 ms, ratio >= 0.8")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
