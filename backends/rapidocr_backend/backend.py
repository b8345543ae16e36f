"""PP-OCRv4 text detection + recognition on the CPU, with paragraphs in reading order."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib.metadata import version
from typing import Any

import numpy as np
from PIL import Image

from shared.api_contract import Block, PageResult
from shared.errors import UnreadableImageShape
from shared.line_markdown import paragraphs_to_markdown
from shared.ocr_backend import HealthInfo, OCRBackend, OCROptions
from shared.reading_order import Line, group_paragraphs

# Detector settings tuned for documents. With RapidOCR's defaults (unclip 1.6, shortest side scaled
# to 736 px) the crops are tight and the recogniser drops spaces between English words: a born-digital
# 10 pt page at 300 dpi read with 8.1% CER; with these, 0.3% (same speed). See PLAN.md.
DETECTOR_SETTINGS = {"det_unclip_ratio": 2.0, "det_limit_type": "max", "det_limit_side_len": 2000}

# RapidOCR's own resizing (its defaults, passed explicitly so that fit_image below always matches it):
# the long side is scaled down to MAX_SIDE, else the short side up to MIN_SIDE. Past an aspect ratio
# of MAX_SIDE:MIN_SIDE that one step breaks: scaled down, a short side rounds to 0 (ResizeImgError,
# e.g. 4000x33); scaled up, the long side explodes (2000x1 becomes 60000x30, letterboxed to
# 15000x60000: 2.8 GB and 5 s for a blank strip). Such shapes are fitted here instead.
MAX_SIDE = 2000
MIN_SIDE = 30
SIZE_SETTINGS = {"max_side_len": MAX_SIDE, "min_side_len": MIN_SIDE}
#: A short side we fit is padded to this: above MIN_SIDE and a multiple of the detector's stride.
PADDED_SIDE = 32


def onnxruntime_version() -> str:
    """ONNX Runtime's own version: its distribution is onnxruntime or onnxruntime-gpu (same module)."""
    import onnxruntime

    return str(onnxruntime.__version__)


def engine_copes(width: int, height: int) -> bool:
    """Whether RapidOCR's own resizing keeps this shape within both of its bounds (see MAX_SIDE)."""
    return max(width, height) * MIN_SIDE <= min(width, height) * MAX_SIDE


def fitted_size(width: int, height: int) -> tuple[int, int]:
    """The size with the long side at MAX_SIDE, as RapidOCR would scale it; refused when the short
    side would be under one pixel (no uniform scaling can show such a strip to the engine)."""
    scale = MAX_SIDE / max(width, height)
    if min(width, height) * scale < 1:
        raise UnreadableImageShape(
            f"the image is {width}x{height} pixels, too elongated for rapidocr: it reads at most {MAX_SIDE} px "
            f"along the long side, which would leave the short side under 1 px (an aspect ratio of at most "
            f"{MAX_SIDE}:1)"
        )
    return max(1, round(width * scale)), max(1, round(height * scale))


def fit_image(image: Image.Image) -> tuple[Image.Image, float, float]:
    """An image beyond the engine's aspect ratio, scaled to :func:`fitted_size` and padded white on the
    right and bottom to PADDED_SIDE (boxes stay valid), with its x and y scale factors. Scaling
    first keeps the padding small: at most MAX_SIDE x PADDED_SIDE."""
    width, height = fitted_size(*image.size)
    canvas = Image.new("RGB", (max(width, PADDED_SIDE), max(height, PADDED_SIDE)), "white")
    canvas.paste(image.resize((width, height), Image.Resampling.BILINEAR))  # bilinear, like RapidOCR's own
    return canvas, width / image.width, height / image.height


def original_points(polygon: Any, scale_x: float, scale_y: float, width: int, height: int) -> list[list[float]]:
    """A detected polygon mapped back to the original image's pixels and clipped to it (off the padding)."""
    return [
        [min(max(float(x) / scale_x, 0.0), float(width)), min(max(float(y) / scale_y, 0.0), float(height))]
        for x, y in polygon
    ]


class RapidOCRBackend(OCRBackend):
    name = "rapidocr"
    raw_key = "rapidocr"
    # PP-OCRv4's recogniser drops spaces and confuses letters on small text; its detector scales
    # pages down to 2000 px anyway, so rendering at 300 dpi costs little time and reads better.
    default_dpi = 300

    def __init__(self, threads: int | None = None, *, angle_classifier: bool = False) -> None:
        super().__init__()
        # PP-OCR's text-direction classifier is off by default: on upright documents it flips some
        # lines (a line with "$42.50 ... (VAT 20% included)." among them), whose upside-down reading
        # then scores low and is dropped. Measured on 7 rendered pages of 15 lines: with it,
        # CER 2.4-28% and up to 2 lines lost per page; without, 0.3-6.5% and none lost. Turn it on
        # (RAPIDOCR_ANGLE_CLS=1) for scans with upside-down text lines.
        self.angle_classifier = angle_classifier
        # ONNX Runtime parallelises inside one call; calls run one at a time so they don't fight for cores.
        self.max_concurrency = 1
        self.threads = threads or os.cpu_count() or 1
        self._engine: Any = None
        self._version = version("rapidocr-onnxruntime")
        self._runtime_version = onnxruntime_version()

    @property
    def model_id(self) -> str:
        return f"PP-OCRv4 (rapidocr-onnxruntime {self._version})"

    def load(self) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self._engine = RapidOCR(
            intra_op_num_threads=self.threads, use_cls=self.angle_classifier, **SIZE_SETTINGS, **DETECTOR_SETTINGS
        )
        # One tiny call so the first real request does not pay for ONNX Runtime's lazy set-up.
        self._engine(np.full((64, 256, 3), 255, dtype=np.uint8))

    def ocr_image(self, image: Image.Image, options: OCROptions) -> PageResult:
        # Passing a PIL image lets RapidOCR convert RGB to its BGR itself. No keyword arguments:
        # RapidOCR stores them on the shared engine, which would leak between requests.
        # Shapes within the engine's aspect ratio go to it untouched; others are fitted first.
        engine_input, scale_x, scale_y = (image, 1.0, 1.0) if engine_copes(*image.size) else fit_image(image)
        detections, _elapsed = self._engine(engine_input)
        lines: list[Line[dict[str, Any]]] = []
        for polygon, text, score in detections or []:
            points = original_points(polygon, scale_x, scale_y, image.width, image.height)
            xs, ys = [x for x, _ in points], [y for _, y in points]
            if max(xs) <= min(xs) or max(ys) <= min(ys):
                continue  # a line found only in the padding
            record = {"polygon": points, "text": text, "score": float(score)}
            lines.append(Line(min(xs), min(ys), max(xs), max(ys), record))
        paragraphs = group_paragraphs(lines)
        ordered = [line for paragraph in paragraphs for line in paragraph]
        blocks = [
            Block(
                type="text",
                bbox=(line.x1, line.y1, line.x2, line.y2),
                text=line.item["text"],
                score=line.item["score"],
                polygon=[(x, y) for x, y in line.item["polygon"]],
            )
            for line in ordered
        ]
        markdown = paragraphs_to_markdown(paragraphs, lambda record: record["text"])
        return PageResult(
            width=image.width,
            height=image.height,
            markdown=markdown,
            blocks=blocks,
            raw={"lines": [line.item for line in ordered]},
        )

    def output_settings(self) -> Mapping[str, Any]:
        """The engine's switches, its resizing and ours, and the versions of the code that runs the models."""
        return {
            "angle_classifier": self.angle_classifier,
            "detector": DETECTOR_SETTINGS,
            "sizes": {**SIZE_SETTINGS, "padded_side": PADDED_SIDE},
            "rapidocr_onnxruntime": self._version,
            "onnxruntime": self._runtime_version,
        }

    def health(self) -> HealthInfo:
        details = {"threads": self.threads, "angle_classifier": self.angle_classifier}
        return HealthInfo(device="cpu", gpu_available=False, details=details)
