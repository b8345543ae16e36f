"""gunicorn settings for an OCR backend: one process holds the model, threads take the requests.

One worker per model (per GPU for the GPU backends): a second worker would load a second copy of the
weights. Requests wait on threads while the backend's work gate lets ``max_concurrency`` run.
"""
import os

bind = os.environ.get("BACKEND_BIND", "127.0.0.1:5002")
worker_class = "gthread"
workers = int(os.environ.get("BACKEND_WORKERS", "1"))
threads = int(os.environ.get("BACKEND_THREADS", "16"))
# Model loading happens when the worker imports the app; give it time before the master gives up.
timeout = int(os.environ.get("BACKEND_WORKER_TIMEOUT", "600"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "60"))
keepalive = 5
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = os.environ.get("ERROR_LOG", "-")
capture_output = True
