# DeepSeek-OCR (:5000) on one GPU through vLLM (its wheels bring torch and the CUDA libraries; the
# host needs the NVIDIA driver and container toolkit). The weights are not in the image: mount them
# at /models/DeepSeek-OCR (docker-compose.yml does; `deployment/setup.sh --models` fetches them).
#   docker build -f deployment/docker/deepseek-ocr.Dockerfile -t ocr-deepseek .
FROM python:3.11
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 DEEPSEEK_VENV=/opt/venv
COPY pyproject.toml ./
COPY deployment/ deployment/
# The catalogue of services and its reader: setup.sh takes the venv's extras from it.
COPY shared/__init__.py shared/catalogue.py shared/
COPY backends/server-requirements.txt backends/server-requirements.txt
COPY backends/deepseek_ocr/requirements.txt backends/deepseek_ocr/requirements.txt
COPY backends/deepseek_ocr/constraints.txt backends/deepseek_ocr/constraints.txt
# No GPU while building: SETUP_GPU=all installs without looking for one.
RUN SETUP_SERVICES=deepseek-ocr SETUP_GPU=all LOG_DIR=/tmp/setup-logs bash deployment/setup.sh
COPY shared/ shared/
COPY backends/ backends/
# One model process on the container's one GPU (index 0 inside), many threads for vLLM's batching.
ENV BACKEND_BIND=0.0.0.0:5000 BACKEND_THREADS=64 DEEPSEEK_GPU=0 DEEPSEEK_MODEL=/models/DeepSeek-OCR
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=10s --start-period=900s --retries=3 \
    CMD python3 deployment/health_probe.py http://127.0.0.1:5000/health model || exit 1
CMD ["/opt/venv/bin/python", "-m", "gunicorn", "-c", "deployment/gunicorn/backend.conf.py", "backends.deepseek_ocr.wsgi:app"]
