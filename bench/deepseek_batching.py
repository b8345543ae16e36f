#!/usr/bin/env python3
"""Does the DeepSeek-OCR backend let vLLM batch? Throughput at 1, 4 and 16 concurrent clients
through the real backend server under gunicorn (the GPU backends' settings from startup.sh:
one worker, 64 threads), with a simulated engine costing a fixed time per batch
(bench/simulated_deepseek.py). Rounds of the three levels alternate in one run, so machine noise
falls on all of them alike. Target (issue #3): at 16 clients, at least 8x the sequential throughput.

    .venv/bin/python bench/deepseek_batching.py [--batch-seconds 0.5] [--rounds 3] [--requests 16]
"""

from __future__ import annotations

import argparse
import io
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from support import exit_cleanly_on_sigterm, processes, text_image

LEVELS = (1, 4, 16)


def page_jpeg() -> bytes:
    from PIL import Image

    image = Image.open(io.BytesIO(text_image(["Quarterly report", "Revenue grew by 12%."], width=1000)))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def run_level(url: str, clients: int, requests_per_client: int, page: bytes) -> tuple[float, int]:
    """Pages per second with ``clients`` clients each sending pages back to back, and the errors."""

    def client(_: int) -> int:
        session = requests.Session()
        errors = 0
        for _ in range(requests_per_client):
            answer = session.post(url + "/ocr", files={"file": ("page.jpg", page)}, timeout=120)
            errors += answer.status_code != 200
        return errors

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        errors = sum(pool.map(client, range(clients)))
    return clients * requests_per_client / (time.perf_counter() - started), errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-seconds", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=16, help="pages per level per round")
    args = parser.parse_args()
    exit_cleanly_on_sigterm()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-deepseek-"))
    env = {"SIM_BATCH_SECONDS": str(args.batch_seconds), "BACKEND_THREADS": "64", "DEEPSEEK_MAX_NUM_SEQS": "32"}
    service = processes.start_backend("deepseek-sim", log_dir, app="bench.simulated_deepseek:app", env=env)
    page = page_jpeg()
    results: dict[int, list[float]] = {level: [] for level in LEVELS}
    errors = 0
    try:
        processes.wait_healthy(service)
        run_level(service.url, 4, 1, page)  # warm-up
        for _ in range(args.rounds):
            for level in LEVELS:
                throughput, failed = run_level(service.url, level, max(1, args.requests // level), page)
                results[level].append(throughput)
                errors += failed
    finally:
        service.stop()
        shutil.rmtree(log_dir, ignore_errors=True)
    sequential = sum(results[1]) / len(results[1])
    print(
        f"simulated engine: {args.batch_seconds:g} s per batch (pages arriving within 0.05 s share one); "
        f"{args.rounds} rounds; errors: {errors}"
    )
    print(f"{'clients':>8} {'pages/s':>9} {'x sequential':>13}")
    for level in LEVELS:
        mean = sum(results[level]) / len(results[level])
        print(f"{level:>8} {mean:>9.2f} {mean / sequential:>13.2f}")
    ratio = sum(results[16]) / len(results[16]) / sequential
    print(f"target: 16 clients >= 8x sequential: {'met' if ratio >= 8 else 'NOT met'} ({ratio:.1f}x)")


if __name__ == "__main__":
    main()
