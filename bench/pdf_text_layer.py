#!/usr/bin/env python3
"""pdf_mode=auto against OCR: a born-digital PDF through the real orchestrator, its pages read from
the text layer (no model) in one arm and OCR'd by the rapidocr backend in the other, alternating in
one run. Target (issue #5): the text path at >= 50 pages/s on this 2-core machine.

    .venv/bin/python bench/pdf_text_layer.py [--pages 50] [--ocr-pages 4] [--rounds 3]

The OCR arm sends the first --ocr-pages pages (rapidocr needs seconds per page; 50 would take minutes).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import requests
from support import born_digital_pdf, exit_cleanly_on_sigterm, processes


def pages_per_second(url: str, pdf: bytes, **fields: str) -> tuple[float, int]:
    started = time.perf_counter()
    answer = requests.post(
        url + "/ocr", files={"file": ("doc.pdf", pdf)}, data={"cache": "false", **fields}, timeout=600
    )
    seconds = time.perf_counter() - started
    body = answer.json()
    if answer.status_code != 200:
        raise SystemExit(f"failed: {body}")
    return len(body["pages"]) / seconds, sum(p["source"] == "text_layer" for p in body["pages"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--ocr-pages", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    exit_cleanly_on_sigterm()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-text-layer-"))
    pdf = born_digital_pdf(args.pages)
    backend = processes.start_backend("rapidocr", log_dir)
    orchestrator = processes.start_orchestrator({"rapidocr": backend.url}, log_dir)
    text_rates: list[float] = []
    ocr_rates: list[float] = []
    try:
        processes.wait_healthy(backend)
        processes.wait_healthy(orchestrator, need_model=False)
        pages_per_second(orchestrator.url, pdf, pdf_mode="auto")  # warm-up
        for _ in range(args.rounds):
            rate, from_text = pages_per_second(orchestrator.url, pdf, pdf_mode="auto")
            assert from_text == args.pages, f"only {from_text} pages came from the text layer"
            text_rates.append(rate)
            rate, from_text = pages_per_second(orchestrator.url, pdf, pdf_mode="ocr", page_range=f"1-{args.ocr_pages}")
            assert from_text == 0
            ocr_rates.append(rate)
    finally:
        orchestrator.stop()
        backend.stop()
        shutil.rmtree(log_dir, ignore_errors=True)
    text = sum(text_rates) / len(text_rates)
    ocr = sum(ocr_rates) / len(ocr_rates)
    print(f"born-digital PDF, {args.pages} pages; {args.rounds} rounds alternating")
    print(f"pdf_mode=auto (text layer): {text:8.1f} pages/s  (rounds: {', '.join(f'{r:.1f}' for r in text_rates)})")
    print(f"pdf_mode=ocr  (rapidocr):   {ocr:8.2f} pages/s  (first {args.ocr_pages} pages)")
    print(f"text layer / OCR: {text / ocr:.0f}x; target >= 50 pages/s: {'met' if text >= 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
