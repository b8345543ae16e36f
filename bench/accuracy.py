"""Accuracy of the CPU backends by layout kind, before and after #19, side by side in one run.

Pages of known text are rendered at run time (``tests/support/layout_pages.py``: one, two and three
columns, tables with and without rules, a receipt, a form, a slide, a skewed noisy scan); each is
OCR'd by every arm in turn, so the machine's noise falls on all of them. ``before`` is an older
commit (default: the last one before #19) extracted with ``git archive`` into a temporary folder
and run from there in its own interpreter (``bench/accuracy_worker.py``); it needs the packages
that commit used (``pip install rapidocr-onnxruntime==1.4.4`` for its PP-OCRv4).

Reported per kind and arm: CER, WER and order-free word F1 against the true text (markdown markup,
table pipes and list bullets removed first), and seconds per page.

    nice -n 10 .venv/bin/python bench/accuracy.py            # 1 page per kind, a few minutes
    nice -n 10 .venv/bin/python bench/accuracy.py --pages 3  # the table in bench/README.md
    .venv/bin/python bench/accuracy.py --quick               # 1 page of 3 kinds, no before
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from statistics import mean
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from orchestrator.text_metrics import character_error_rate, word_error_rate, word_f1  # noqa: E402
from tests.support.layout_pages import KINDS, Fonts, make_page, plain_text  # noqa: E402

#: The last commit before #19 (PP-OCRv4, XY-cut over all lines).
BEFORE = "7dbbe2d8404e"
#: Font faces, turn by turn over kinds and seeds: Pillow's own, then DejaVu faces where installed.
FACES = (None, "DejaVuSans", "DejaVuSerif")
#: (tree, arm, label) in report order; "before" arms run from the old tree.
ARMS = (
    ("before", "rapidocr", "rapidocr before (PP-OCRv4, XY-cut)"),
    ("after", "rapidocr", "rapidocr after (PP-OCRv6 + layout)"),
    ("after", "rapidocr:lines", "PP-OCRv6, plain line joining"),
    ("before", "tesseract", "tesseract before (XY-cut)"),
    ("after", "tesseract", "tesseract after (own layout)"),
    ("after", "tesseract:shared", "tesseract, shared layout stage"),
    ("after", "tesseract:psm3", "Tesseract psm 3 text (CLI)"),
)


class Worker:
    """An ``accuracy_worker.py`` process for one source tree and its arms."""

    def __init__(self, source: Path, arms: list[str]) -> None:
        self.arms = arms
        self.process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "bench" / "accuracy_worker.py"), str(source), *arms],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker for {self.arms} stopped (see its error above)")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ocr(self, path: Path) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{path}\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def extract(ref: str, folder: Path) -> Path:
    """The tree of commit ``ref`` (git archive; the work tree is not touched)."""
    archive = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", ref], check=True, capture_output=True).stdout
    folder.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def run(kinds: list[str], pages: int, before: str | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="accuracy-") as temporary:
        folder = Path(temporary)
        trees = {"after": REPO_ROOT}
        if before:
            trees["before"] = extract(before, folder / "before")
        workers = {tree: Worker(source, [arm for t, arm, _ in ARMS if t == tree]) for tree, source in trees.items()}
        try:
            for kind in kinds:
                for seed in range(pages):
                    page = make_page(kind, seed, Fonts(FACES[(seed + KINDS.index(kind)) % len(FACES)]))
                    path = folder / f"{kind}-{seed}.png"
                    page.image.save(path)
                    truth = plain_text(page.truth)
                    for tree, worker in workers.items():
                        for arm, answer in worker.ocr(path).items():
                            text = plain_text(answer["text"])
                            rows.append(
                                {
                                    "kind": kind,
                                    "seed": seed,
                                    "arm": next(label for t, a, label in ARMS if (t, a) == (tree, arm)),
                                    "cer": character_error_rate(truth, text),
                                    "wer": word_error_rate(truth, text),
                                    "f1": word_f1(truth, text),
                                    "seconds": answer["seconds"],
                                }
                            )
                    print(f"{kind} page {seed + 1}/{pages} done", file=sys.stderr, flush=True)
        finally:
            for worker in workers.values():
                worker.close()
    return rows


def table(rows: list[dict[str, Any]], kinds: list[str]) -> str:
    """A markdown table: one row per arm, CER / F1 per kind, then the means and seconds per page."""
    by_arm: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_arm[row["arm"]].append(row)
    header = ["arm", *kinds, "CER", "WER", "word F1", "s/page"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, _, label in ARMS:
        results = by_arm.get(label)
        if not results:
            continue
        cells = []
        for kind in kinds:
            mine = [r for r in results if r["kind"] == kind]
            cells.append(f"{mean(r['cer'] for r in mine):.3f} / {mean(r['f1'] for r in mine):.3f}")
        seconds = [r["seconds"] for r in results if r["seconds"] is not None]
        lines.append(
            "| "
            + " | ".join(
                [
                    label,
                    *cells,
                    f"{mean(r['cer'] for r in results):.3f}",
                    f"{mean(r['wer'] for r in results):.3f}",
                    f"{mean(r['f1'] for r in results):.3f}",
                    f"{mean(seconds):.2f}" if seconds else "—",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1, help="pages per layout kind (default 1)")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--before", default=BEFORE, help=f"commit to compare with (default {BEFORE})")
    parser.add_argument("--no-before", action="store_true", help="only this tree's arms")
    parser.add_argument("--quick", action="store_true", help="1 page of 3 kinds, no before (checks the script)")
    parser.add_argument("--json", type=Path, help="write every page's figures here")
    args = parser.parse_args()
    kinds, pages, before = args.kinds, args.pages, None if args.no_before else args.before
    if args.quick:
        kinds, pages, before = ["columns_2", "table_plain", "receipt"], 1, None
    rows = run(kinds, pages, before)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print("CER / word F1 per kind; means over all pages; seconds per page (OCR + layout, in-process)\n")
    print(table(rows, kinds))


if __name__ == "__main__":
    main()
