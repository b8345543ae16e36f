"""gunicorn entry point: ``gunicorn orchestrator.wsgi:app``."""

from orchestrator import create_app

app = create_app()
