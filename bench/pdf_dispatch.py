#!/usr/bin/env python3
"""Page-level dispatch against one whole-document request: a scanned PDF (pages are images, no text
layer) as a job through the real orchestrator to a rapidocr backend with 2 gunicorn workers
(1 ONNX thread each, so the two workers share the 2 cores instead of fighting over them).

One orchestrator sends the PDF page by page, 2 slices at a time (PDF_SLICE_PAGES=1,
PDF_CONCURRENCY=2); the other sends it as one slice, which one backend worker reads page after page.
The arms alternate in one run.

    .venv/bin/python bench/pdf_dispatch.py [--pages 20] [--rounds 2] [--dpi 150]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import requests
from support import exit_cleanly_on_sigterm, processes, scanned_pdf


def job_seconds(url: str, pdf: bytes, dpi: int) -> float:
    started = time.perf_counter()
    accepted = requests.post(
        url + "/jobs",
        files={"file": ("scan.pdf", pdf)},
        data={"backend": "rapidocr", "cache": "false", "dpi": str(dpi), "boxes_image": "false"},
        timeout=60,
    ).json()
    while True:
        job = requests.get(url + accepted["status_url"], timeout=30).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.1)
    if job["status"] != "succeeded":
        raise SystemExit(f"job {job['status']}: {job.get('error')}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dpi", type=int, default=150)
    args = parser.parse_args()
    exit_cleanly_on_sigterm()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-dispatch-"))
    pdf = scanned_pdf(args.pages)
    backend = processes.start_backend("rapidocr", log_dir, env={"BACKEND_WORKERS": "2", "RAPIDOCR_THREADS": "1"})
    paged = processes.start_orchestrator(
        {"rapidocr": backend.url},
        log_dir / "paged",
        env={"PDF_SLICE_PAGES": "rapidocr=1", "PDF_CONCURRENCY": "rapidocr=2"},
    )
    whole = processes.start_orchestrator(
        {"rapidocr": backend.url}, log_dir / "whole", env={"PDF_SLICE_PAGES": f"rapidocr={args.pages}"}
    )
    times: dict[str, list[float]] = {"page by page": [], "whole document": []}
    try:
        processes.wait_healthy(backend)
        for service in (paged, whole):
            processes.wait_healthy(service, need_model=False)
        job_seconds(paged.url, scanned_pdf(2), args.dpi)  # warm both workers up
        for _ in range(args.rounds):
            times["page by page"].append(job_seconds(paged.url, pdf, args.dpi))
            times["whole document"].append(job_seconds(whole.url, pdf, args.dpi))
    finally:
        for service in (paged, whole, backend):
            service.stop()
        shutil.rmtree(log_dir, ignore_errors=True)
    print(
        f"scanned PDF, {args.pages} pages at {args.dpi} dpi, rapidocr with 2 workers; {args.rounds} rounds alternating"
    )
    means = {arm: sum(values) / len(values) for arm, values in times.items()}
    for arm, seconds in means.items():
        print(f"{arm:>15}: {seconds:6.1f} s  ({args.pages / seconds:.2f} pages/s)")
    print(f"speed-up of page-level dispatch: {means['whole document'] / means['page by page']:.2f}x")


if __name__ == "__main__":
    main()
