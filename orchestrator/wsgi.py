"""gunicorn entry point: ``gunicorn orchestrator.wsgi:app``."""

from orchestrator.app import create_app

app = create_app()
