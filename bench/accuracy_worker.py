"""One side of ``bench/accuracy.py``: OCRs pages with the backends of one source tree.

Run as ``python bench/accuracy_worker.py SOURCE_TREE ARM...``; reads one page path per line on stdin
and answers one JSON line per page: every arm's text and seconds. It imports ``shared`` and
``backends`` from ``SOURCE_TREE`` only (this tree, or an extracted older commit), so the two versions
of the code never meet in one interpreter. Arms:

- ``rapidocr``, ``tesseract``: the backend's markdown (``ocr_image``, as the server calls it);
- ``tesseract:shared`` (this tree only): the tesseract backend with the shared layout stage;
- ``rapidocr:lines`` (with ``rapidocr``): its text lines sorted top to bottom, lines on one row
  joined by a space (plain line joining, no layout: the issue's reference);
- ``tesseract:psm3``: Tesseract's own text for the page (``GetUTF8Text``, page segmentation 3), the
  same as the ``tesseract`` command line prints.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def plain_lines(lines: list[dict[str, Any]]) -> str:
    """Lines top to bottom; a line whose middle lies within the previous one's height, on its row."""
    boxes = []
    for line in lines:
        ys = [y for _, y in line["polygon"]]
        xs = [x for x, _ in line["polygon"]]
        boxes.append((min(ys), max(ys), min(xs), line["text"]))
    rows: list[list[tuple[float, float, float, str]]] = []
    for box in sorted(boxes):
        middle = (box[0] + box[1]) / 2
        if rows and rows[-1][0][0] <= middle <= rows[-1][0][1]:
            rows[-1].append(box)
        else:
            rows.append([box])
    return "\n".join(" ".join(b[3] for b in sorted(row, key=lambda b: b[2])) for row in rows)


def main() -> None:
    source, arms = Path(sys.argv[1]).resolve(), sys.argv[2:]
    sys.path.insert(0, str(source))
    from PIL import Image

    from shared.options import OCROptions

    backends: dict[str, Any] = {}
    if "rapidocr" in arms:
        from backends.rapidocr_backend.backend import RapidOCRBackend

        backends["rapidocr"] = RapidOCRBackend()
    if "tesseract" in arms or "tesseract:psm3" in arms:
        from backends.tesseract_backend.backend import TesseractBackend

        backends["tesseract"] = TesseractBackend(workers=1)
    if "tesseract:shared" in arms:
        from backends.tesseract_backend.backend import TesseractBackend

        backends["tesseract:shared"] = TesseractBackend(workers=1, layout="shared")
    for backend in backends.values():
        backend.load()
    print(json.dumps({"ready": True}), flush=True)
    for path in sys.stdin:
        image = Image.open(path.strip()).convert("RGB")
        answer: dict[str, Any] = {}
        for arm in arms:
            started = time.perf_counter()
            if arm == "rapidocr:lines":
                continue  # from the rapidocr arm's own lines, below
            if arm == "tesseract:psm3":
                with backends["tesseract"]._engine() as engine:
                    engine.SetImage(image)
                    text = engine.GetUTF8Text()
                answer[arm] = {"text": text, "seconds": time.perf_counter() - started}
                continue
            page = backends[arm].ocr_image(image, OCROptions())
            answer[arm] = {"text": page.markdown, "seconds": time.perf_counter() - started}
            if arm == "rapidocr" and "rapidocr:lines" in arms:
                answer["rapidocr:lines"] = {"text": plain_lines(page.raw["lines"]), "seconds": None}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
