"""gunicorn entry point: ``gunicorn backends.vlm_backend.wsgi:app``; one instance per catalogue entry
with a ``preset`` (deployment/plan.py sets its VLM_* variables)."""

from backends.vlm_backend.backend import create_backend
from backends.vlm_backend.config import VLMConfig
from shared.backend_server import create_backend_app
from shared.config import ConfigError

_config = VLMConfig.from_env()
try:
    _backend = create_backend(_config)
except KeyError as exc:  # an unknown preset: the message names the known ones
    raise ConfigError(str(exc.args[0])) from None
app = create_backend_app(_backend)
