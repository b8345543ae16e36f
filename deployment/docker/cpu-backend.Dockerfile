# The CPU backends, rapidocr (:5002, the default command) and tesseract (:5003): one image, the app
# chosen by the command (see docker-compose.yml). Both models ship inside their wheels.
#   docker build -f deployment/docker/cpu-backend.Dockerfile -t ocr-cpu-backend .
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 MALLOC_ARENA_MAX=2 BACKEND_MAX_RSS_MB=2048 VENV=/opt/venv
# onnxruntime and OpenCV need these shared libraries at run time on the slim image.
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml ./
COPY deployment/ deployment/
# The catalogue of services and its reader: setup.sh takes the venv's extras from it.
COPY shared/__init__.py shared/catalogue.py shared/
RUN SETUP_SERVICES=main MAIN_EXTRAS=rapidocr,tesseract LOG_DIR=/tmp/setup-logs bash deployment/setup.sh
COPY shared/ shared/
COPY backends/ backends/
ENV BACKEND_BIND=0.0.0.0:5002
EXPOSE 5002 5003
HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=3 \
    CMD python3 deployment/health_probe.py "http://127.0.0.1:${BACKEND_BIND##*:}/health" model || exit 1
CMD ["/opt/venv/bin/python", "-m", "gunicorn", "-c", "deployment/gunicorn/backend.conf.py", "backends.rapidocr_backend.wsgi:app"]
