"""A backend that publishes a preset's modes (``PRESET_MODES``, comma-separated, the first the
default) and a custom prompt, and answers each page with the mode and prompt it ran with: for the
browser tests of an options panel drawn from what a backend publishes (issue #21).

Served by the real backend server under gunicorn: ``tests.support.preset_backend:app``.
"""

from __future__ import annotations

import os

from PIL import Image

from shared.api_contract import Block, PageResult
from shared.backend_server import create_backend_app
from shared.ocr_backend import OCRBackend
from shared.options import FormField, OCROptions

APP = "tests.support.preset_backend:app"


class PresetStandIn(OCRBackend):
    name = "preset"
    raw_key = "preset"
    model_id = "preset stand-in 1.0"

    def __init__(self, modes: tuple[str, ...]) -> None:
        super().__init__()
        self.modes = modes

    def option_fields(self) -> tuple[FormField, ...]:
        return (
            FormField("mode", "string", "The preset's task prompt.", self.modes[0], choices=self.modes),
            FormField("prompt", "string", "Your own instruction instead of a mode."),
        )

    def load(self) -> None:
        pass

    def ocr_image(self, image: Image.Image, options: OCROptions) -> PageResult:
        text = f"ran mode {options.mode or self.modes[0]}"
        if options.prompt:
            text += f" with prompt {options.prompt}"
        return PageResult(image.width, image.height, text, [Block("text", (0, 0, 1, 1), text, 1.0)])


app = create_backend_app(PresetStandIn(tuple(os.environ.get("PRESET_MODES", "ocr").split(","))))
