"""A backend whose model loads fine and reads every page as the same garbage: what the smoke gate
must catch while ``/health`` says ``model_loaded: true`` (a wrong model, broken weights...).

gunicorn: ``tests.support.garbage_backend:app``; start it with
``start_backend("garbage", logs, app=APP)``.
"""

from __future__ import annotations

from PIL import Image

from shared.api_contract import Block, PageResult
from shared.backend_server import create_backend_app
from shared.ocr_backend import OCRBackend
from shared.options import OCROptions

APP = "tests.support.garbage_backend:app"
GARBAGE = "lorem qwzx 0000"


class GarbageBackend(OCRBackend):
    name = "garbage"
    raw_key = "garbage"
    max_concurrency = 4

    @property
    def model_id(self) -> str:
        return "garbage stand-in 1.0"

    def load(self) -> None:
        pass

    def ocr_image(self, image: Image.Image, options: OCROptions) -> PageResult:
        return PageResult(
            width=image.width,
            height=image.height,
            markdown=GARBAGE,
            blocks=[Block("text", (0, 0, 1, 1), GARBAGE, 1.0)],
            raw={"text": GARBAGE},
        )


app = create_backend_app(GarbageBackend())
