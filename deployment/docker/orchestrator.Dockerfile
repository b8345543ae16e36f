# The orchestrator (:8080), the only public entry. Build from the repository root:
#   docker build -f deployment/docker/orchestrator.Dockerfile -t ocr-orchestrator .
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VENV=/opt/venv
# Dependencies first (a layer that survives code changes), through the same set-up path as a server.
COPY pyproject.toml ./
COPY deployment/ deployment/
# The catalogue of services and its reader: setup.sh takes the venv's extras from it.
COPY shared/__init__.py shared/catalogue.py shared/
RUN SETUP_SERVICES=main MAIN_EXTRAS=orchestrator LOG_DIR=/tmp/setup-logs bash deployment/setup.sh
COPY shared/ shared/
COPY orchestrator/ orchestrator/
COPY backends/__init__.py backends/__init__.py
ENV ORCHESTRATOR_BIND=0.0.0.0:8080 OCR_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=10s --start-period=30s --retries=3 \
    CMD python3 deployment/health_probe.py http://127.0.0.1:8080/health http || exit 1
CMD ["/opt/venv/bin/python", "-m", "gunicorn", "-c", "deployment/gunicorn/orchestrator.conf.py", "orchestrator.wsgi:app"]
