#!/usr/bin/env python3
"""Pages per second of the rapidocr backend (HTTP, under gunicorn) against RapidOCR called in this
process on the same images with the same detector settings, interleaved page by page in one run.

The in-process arm decodes the same bytes and calls the engine; the backend arm adds HTTP, upload
checks, reading order, markdown and (by default) the boxes image. Target (issue #2): within 10%.

    .venv/bin/python bench/rapidocr_throughput.py [--pages 6] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import requests
from PIL import Image
from support import exit_cleanly_on_sigterm, processes, scanned_page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=6, help="distinct test pages (default 6)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the pages (default 3)")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args()
    exit_cleanly_on_sigterm()

    from backends.rapidocr_backend.backend import build_engine

    pages = [scanned_page(lines=30, seed=i) for i in range(args.pages)]
    print(
        f"{len(pages)} pages of {Image.open(io.BytesIO(pages[0])).size} px, "
        f"{sum(map(len, pages)) / len(pages) / 1e3:.0f} kB each"
    )
    engine = build_engine(os.cpu_count() or 1, angle_classifier=False)

    def in_process(data: bytes) -> None:
        detections = engine(Image.open(io.BytesIO(data)).convert("RGB"))
        assert detections.txts

    log_dir = Path(tempfile.mkdtemp(prefix="bench-rapidocr-"))
    backend = processes.start_backend("rapidocr", log_dir)
    session = requests.Session()
    arms = {"in-process": in_process}
    for label, fields in (("backend", {}), ("backend, no boxes image", {"boxes_image": "false"})):

        def over_http(data: bytes, fields: dict[str, str] = fields) -> None:
            response = session.post(backend.url + "/ocr", files={"file": ("page.jpg", data)}, data=fields, timeout=300)
            assert response.status_code == 200 and response.json()["markdown"], response.text[:300]

        arms[label] = over_http
    seconds = dict.fromkeys(arms, 0.0)
    try:
        processes.wait_healthy(backend)
        for run in arms.values():  # warm-up, not counted
            run(pages[0])
        for round_ in range(args.rounds):
            for index, page in enumerate(pages):
                order = list(arms.items())
                order = order[(round_ + index) % len(order) :] + order[: (round_ + index) % len(order)]
                for label, run in order:
                    started = time.perf_counter()
                    run(page)
                    seconds[label] += time.perf_counter() - started
    finally:
        backend.stop()
        shutil.rmtree(log_dir, ignore_errors=True)  # a start-up failure already showed its log tail

    count = args.pages * args.rounds
    base = count / seconds["in-process"]
    results = {
        label: {"pages_per_s": round(count / spent, 3), "ratio_to_in_process": round(count / spent / base, 3)}
        for label, spent in seconds.items()
    }
    print(f"\n{'arm':26} {'pages/s':>8} {'ratio':>6}")
    for label, result in results.items():
        print(f"{label:26} {result['pages_per_s']:>8.3f} {result['ratio_to_in_process']:>6.3f}")
    print("target: backend within 10% of in-process (ratio >= 0.9)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
