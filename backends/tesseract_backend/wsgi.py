"""gunicorn entry point: ``gunicorn backends.tesseract_backend.wsgi:app``."""
from pathlib import Path

from backends.tesseract_backend.backend import TesseractBackend
from shared.backend_server import create_backend_app
from shared.config import env_int, env_str

app = create_backend_app(TesseractBackend(
    lang=env_str("TESSERACT_LANG", "eng"),
    tessdata=Path(env_str("TESSDATA_PREFIX", "")) if env_str("TESSDATA_PREFIX", "") else None,
    workers=env_int("TESSERACT_WORKERS", 0, minimum=0) or None,
))
