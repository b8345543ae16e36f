"""gunicorn entry point: ``gunicorn backends.deepseek_ocr.wsgi:app`` (see deployment/gunicorn/)."""

from backends.deepseek_ocr.cuda_startup import make_cuda_safe
from shared.gpu_pin import pin_gpu

# Before anything imports torch (the engines import it only when they load): the GPU pin, and the
# CUDA-safe environment the engine core inherits (cuda_startup.py).
pin_gpu("DEEPSEEK_GPU", "0")
make_cuda_safe()

from backends.deepseek_ocr.backend import create_backend  # noqa: E402
from backends.deepseek_ocr.config import DeepSeekConfig  # noqa: E402
from shared.backend_server import create_backend_app  # noqa: E402

app = create_backend_app(create_backend(DeepSeekConfig.from_env()))
