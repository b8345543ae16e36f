"""A backend served by the real backend server under gunicorn, with a stand-in model that takes
``STANDIN_DELAY`` seconds per page: for fault, shutdown and metrics tests that need a slow request.

gunicorn: ``tests.support.standin_backend:app``.
"""

from __future__ import annotations

import os
import time

from shared.api_contract import Block, PageResult
from shared.backend_server import create_backend_app
from shared.ocr_backend import OCRBackend

APP = "tests.support.standin_backend:app"


class SlowStandIn(OCRBackend):
    name = "slow"
    raw_key = "slow"
    max_concurrency = 8  # requests run side by side: a slow one does not hold up the next

    @property
    def model_id(self) -> str:
        return "slow stand-in 1.0"

    def load(self) -> None:
        pass

    def ocr_image(self, image, options):  # type: ignore[no-untyped-def]
        time.sleep(float(os.environ.get("STANDIN_DELAY", "0")))
        return PageResult(
            width=image.width,
            height=image.height,
            markdown="slow page",
            blocks=[Block("text", (0, 0, 1, 1), "slow page", 1.0)],
        )


app = create_backend_app(SlowStandIn())
