# MinerU (:5001) on one GPU, MinerU 4.0.12 in-process. Its models are not in the image: mount them
# at /models/mineru (docker-compose.yml does; `deployment/setup.sh --models` fetches them).
#   docker build -f deployment/docker/mineru.Dockerfile -t ocr-mineru .
FROM python:3.11
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 MINERU_VENV=/opt/venv
COPY pyproject.toml ./
COPY deployment/ deployment/
# The catalogue of services and its reader: setup.sh takes the venv's extras from it.
COPY shared/__init__.py shared/catalogue.py shared/
COPY backends/server-requirements.txt backends/server-requirements.txt
COPY backends/mineru_backend/requirements.txt backends/mineru_backend/requirements.txt
RUN SETUP_SERVICES=mineru SETUP_GPU=all LOG_DIR=/tmp/setup-logs bash deployment/setup.sh
COPY shared/ shared/
COPY backends/ backends/
# The container sees only the GPU it was given, as index 0; MinerU's own config lives in /tmp.
ENV BACKEND_BIND=0.0.0.0:5001 BACKEND_THREADS=16 MINERU_GPU=0 MINERU_MODEL_BASE_DIR=/models/mineru \
    MINERU_HOME=/tmp/mineru-home
EXPOSE 5001
HEALTHCHECK --interval=30s --timeout=10s --start-period=900s --retries=3 \
    CMD python3 deployment/health_probe.py http://127.0.0.1:5001/health model || exit 1
CMD ["/opt/venv/bin/python", "-m", "gunicorn", "-c", "deployment/gunicorn/backend.conf.py", "backends.mineru_backend.wsgi:app"]
