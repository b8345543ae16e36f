"""A backend with no model: it decodes the upload like every backend and returns an empty page.

Served by the real backend server factory under gunicorn, it isolates what the orchestrator adds to a
request (validation, forwarding, copying the answer back) from OCR time, which would drown it.
``ECHO_DELAY_S`` makes each page take that long (a busy or slow backend, for the load tests);
``ECHO_CONCURRENCY`` sets how many run at once (16).
"""

from __future__ import annotations

import os
import time

from PIL import Image

from shared.api_contract import PageResult
from shared.backend_server import create_backend_app
from shared.ocr_backend import HealthInfo, OCRBackend, OCROptions


class EchoBackend(OCRBackend):
    name = "echo"
    raw_key = "echo"
    max_concurrency = int(os.environ.get("ECHO_CONCURRENCY", "16"))
    model_id = "none (benchmark stand-in)"

    def load(self) -> None:
        pass

    def ocr_image(self, image: Image.Image, options: OCROptions) -> PageResult:
        time.sleep(float(os.environ.get("ECHO_DELAY_S", "0")))
        return PageResult(width=image.width, height=image.height, markdown="", blocks=[], raw={})

    def health(self) -> HealthInfo:
        return HealthInfo()


app = create_backend_app(EchoBackend())
