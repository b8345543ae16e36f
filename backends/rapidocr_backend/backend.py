"""PP-OCRv6 text detection + recognition on the CPU (the models inside the ``rapidocr`` wheel), read
in the order of the page's layout blocks (``shared.layout``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from shared.api_contract import Block, PageResult
from shared.errors import UnreadableImageShape
from shared.layout import LayoutModel
from shared.layout_blocks import page_blocks
from shared.line_markdown import blocks_to_markdown
from shared.ocr_backend import HealthInfo, OCRBackend, OCROptions
from shared.reading_order import Line

# Detector settings tuned for documents. With RapidOCR's defaults (unclip 1.6, shortest side scaled
# to 736 px) the crops are tight and PP-OCRv4's recogniser dropped spaces between English words (a
# born-digital 10 pt page at 300 dpi: 8.1% CER; with these, 0.3%). PP-OCRv6 reads every word gap
# with either; these stay because "max 2000" bounds the detector's input (a 1x2000 strip made
# 30x930 by the engine is not blown up to 736 px wide) and unclip 2.0 costs nothing (PLAN.md, #19).
DETECTOR_SETTINGS = {"unclip_ratio": 2.0, "limit_type": "max", "limit_side_len": 2000}
#: The models inside the rapidocr wheel, by stage; opened by path so nothing is ever downloaded.
MODEL_FILES = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}
#: ONNX Runtime's CPU memory arena: off (rapidocr 3's own default). The arena keeps the peak of the
#: largest page it has seen; off, peak RSS over 8 pages fell from 1713 to 1189 MB and wall time was
#: within the noise of a busy 2-core machine (PLAN.md, #19).
CPU_MEM_ARENA = False

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


def wheel_models() -> Path:
    """The ``models`` folder of the installed rapidocr wheel (found without importing rapidocr)."""
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("rapidocr is not installed (pip install rapidocr)")
    return Path(spec.origin).parent / "models"


def build_engine(threads: int, *, angle_classifier: bool, cpu_mem_arena: bool = CPU_MEM_ARENA) -> Any:
    """The one place the RapidOCR engine is made: the wheel's PP-OCRv6 models, our detector settings
    and resizing, ONNX Runtime's threads and arena."""
    from rapidocr import RapidOCR

    models = wheel_models()
    missing = [name for name in MODEL_FILES.values() if not (models / name).is_file()]
    if missing:
        raise FileNotFoundError(f"the rapidocr wheel has no {', '.join(missing)} in {models}")
    params: dict[str, Any] = {
        "Global.use_cls": angle_classifier,
        "Global.log_level": "warning",
        **{f"Global.{key}": value for key, value in SIZE_SETTINGS.items()},
        **{f"Det.{key}": value for key, value in DETECTOR_SETTINGS.items()},
        **{f"{stage}.model_path": str(models / name) for stage, name in MODEL_FILES.items()},
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.enable_cpu_mem_arena": cpu_mem_arena,
    }
    return RapidOCR(params=params)


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


#: RapidOCR 3 letterboxes an image wider than STRIP_RATIO:1 or at most STRIP_HEIGHT px tall in black
#: (``Global.width_height_ratio``, ``min_height``), and PP-OCRv6's detector then finds no text on a
#: white strip (a 2000x40 line read as nothing). Such images get white padding below instead.
STRIP_RATIO = 8
STRIP_HEIGHT = 30


def pad_strip(image: Image.Image) -> Image.Image:
    """A strip padded white at the bottom to STRIP_RATIO:1 (boxes stay valid); other images as they are."""
    if image.height > STRIP_HEIGHT and image.width <= STRIP_RATIO * image.height:
        return image
    canvas = Image.new("RGB", (image.width, max(-(-image.width // STRIP_RATIO), STRIP_HEIGHT + 1)), "white")
    canvas.paste(image.convert("RGB"))
    return canvas


def original_points(polygon: Any, scale_x: float, scale_y: float, width: int, height: int) -> list[list[float]]:
    """A detected polygon mapped back to the original image's pixels and clipped to it (off the padding)."""
    return [
        [min(max(float(x) / scale_x, 0.0), float(width)), min(max(float(y) / scale_y, 0.0), float(height))]
        for x, y in polygon
    ]


class RapidOCRBackend(OCRBackend):
    name = "rapidocr"
    raw_key = "rapidocr"
    # The detector scales pages down to 2000 px anyway, so rendering at 300 dpi costs little time
    # and reads small text better.
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
        self.layout = LayoutModel(self.threads)
        self._version = version("rapidocr")
        self._runtime_version = onnxruntime_version()

    @property
    def model_id(self) -> str:
        return f"PP-OCRv6 small (rapidocr {self._version}) + {self.layout.model_id}"

    def load(self) -> None:
        self._engine = build_engine(self.threads, angle_classifier=self.angle_classifier)
        self.layout.load()
        # One small call of each model so the first request does not pay for ONNX Runtime's lazy
        # set-up (RapidOCR 3 opens its recogniser at the first line it finds).
        warm_up = Image.new("RGB", (320, 64), "white")
        ImageDraw.Draw(warm_up).text((10, 16), "Ready 123", fill="black", font=ImageFont.load_default(size=28))
        self._engine(np.asarray(warm_up)[:, :, ::-1])
        self.layout.regions(warm_up)

    def _lines(self, image: Image.Image) -> list[Line[dict[str, Any]]]:
        """The engine's text lines, in the image's pixels."""
        # No keyword arguments: RapidOCR stores them on the shared engine, which would leak between
        # requests. Shapes within the engine's aspect ratio go to it untouched; others are fitted first.
        engine_input, scale_x, scale_y = (image, 1.0, 1.0) if engine_copes(*image.size) else fit_image(image)
        output = self._engine(np.asarray(pad_strip(engine_input).convert("RGB"))[:, :, ::-1])  # RapidOCR reads BGR
        lines: list[Line[dict[str, Any]]] = []
        if output.boxes is None or output.txts is None:
            return lines
        for polygon, text, score in zip(output.boxes, output.txts, output.scores, strict=True):
            points = original_points(polygon, scale_x, scale_y, image.width, image.height)
            xs, ys = [x for x, _ in points], [y for _, y in points]
            if max(xs) <= min(xs) or max(ys) <= min(ys):
                continue  # a line found only in the padding
            record = {"polygon": points, "text": text, "score": float(score)}
            lines.append(Line(min(xs), min(ys), max(xs), max(ys), record))
        return lines

    def ocr_image(self, image: Image.Image, options: OCROptions) -> PageResult:
        lines = self._lines(image)
        regions = self.layout.regions(image) if lines else []
        layout = page_blocks(lines, regions)
        blocks = [
            Block(
                type=block.type,
                bbox=(line.x1, line.y1, line.x2, line.y2),
                text=line.item["text"],
                score=line.item["score"],
                polygon=[(x, y) for x, y in line.item["polygon"]],
            )
            for block in layout
            for line in block.lines
        ] + [Block(type=block.type, bbox=block.box, text="", score=block.score) for block in layout if not block.lines]
        return PageResult(
            width=image.width,
            height=image.height,
            markdown=blocks_to_markdown(layout, lambda record: record["text"]),
            blocks=blocks,
            raw={
                "lines": [
                    {**line.item, "block": number} for number, block in enumerate(layout) for line in block.lines
                ],
                "blocks": [{"type": block.type, "bbox": list(block.box), "score": block.score} for block in layout],
            },
        )

    def output_settings(self) -> Mapping[str, Any]:
        """The engine's models and switches, its resizing and ours, the layout stage, and the versions
        of the code that runs the models."""
        return {
            "models": MODEL_FILES,
            "angle_classifier": self.angle_classifier,
            "detector": DETECTOR_SETTINGS,
            "sizes": {**SIZE_SETTINGS, "padded_side": PADDED_SIDE},
            "cpu_mem_arena": CPU_MEM_ARENA,
            "layout": self.layout.settings(),
            "rapidocr": self._version,
            "onnxruntime": self._runtime_version,
        }

    def health(self) -> HealthInfo:
        details = {"threads": self.threads, "angle_classifier": self.angle_classifier, "layout": self.layout.model_id}
        return HealthInfo(device="cpu", gpu_available=False, details=details)
