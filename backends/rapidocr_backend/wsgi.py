"""gunicorn entry point: ``gunicorn backends.rapidocr_backend.wsgi:app``."""

from backends.rapidocr_backend.backend import RapidOCRBackend
from shared.backend_server import create_backend_app
from shared.config import env_bool, env_int

app = create_backend_app(
    RapidOCRBackend(
        threads=env_int("RAPIDOCR_THREADS", 0, minimum=0) or None,
        angle_classifier=env_bool("RAPIDOCR_ANGLE_CLS", False),
    )
)
