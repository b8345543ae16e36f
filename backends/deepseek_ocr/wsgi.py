"""gunicorn entry point: ``gunicorn backends.deepseek_ocr.wsgi:app`` (see deployment/gunicorn/)."""

from shared.gpu_pin import pin_gpu

# Pin the GPU before anything imports torch (the engines import it only when they load).
pin_gpu("DEEPSEEK_GPU", "0")

from backends.deepseek_ocr.backend import DeepSeekOCRBackend  # noqa: E402
from backends.deepseek_ocr.config import DeepSeekConfig  # noqa: E402
from shared.backend_server import create_backend_app  # noqa: E402

app = create_backend_app(DeepSeekOCRBackend(DeepSeekConfig.from_env()))
