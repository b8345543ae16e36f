"""gunicorn entry point: ``gunicorn backends.mineru_backend.wsgi:app`` (one worker per GPU)."""

from backends.mineru_backend.backend import MinerUBackend
from shared.backend_server import create_backend_app

app = create_backend_app(MinerUBackend())
