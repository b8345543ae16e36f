"""gunicorn entry point: ``gunicorn backends.tesseract_backend.wsgi:app`` (the backend itself reads
``TESSDATA_PREFIX``, the variable Tesseract knows)."""

from backends.tesseract_backend.backend import TesseractBackend
from shared.backend_server import create_backend_app
from shared.config import env_int, env_str

app = create_backend_app(
    TesseractBackend(
        lang=env_str("TESSERACT_LANG", "eng"),
        workers=env_int("TESSERACT_WORKERS", 0, minimum=0) or None,
    )
)
