"""gunicorn settings for the orchestrator: I/O-bound (it waits on backends), so threads.

Every value can be overridden from the environment; startup.sh sets the bind address and port.
"""
import os

bind = os.environ.get("ORCHESTRATOR_BIND", "0.0.0.0:8080")
worker_class = "gthread"
workers = int(os.environ.get("ORCHESTRATOR_WORKERS", "2"))
# Each in-flight OCR request holds a thread while its backend works (a GPU page can take a minute).
threads = int(os.environ.get("ORCHESTRATOR_THREADS", "32"))
# gthread workers heartbeat from their main loop, so a long backend call does not trip this.
timeout = int(os.environ.get("ORCHESTRATOR_WORKER_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
keepalive = 5
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = os.environ.get("ERROR_LOG", "-")
capture_output = True
