"""gunicorn settings for the orchestrator: I/O-bound (it waits on backends), so threads.

Every value can be overridden from the environment; startup.sh sets the bind address and port.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: `shared` lives there
from shared.gunicorn_hooks import child_exit, metrics_dir_for, on_starting, post_fork, use_metrics_dir

# gunicorn reads the hooks from this module by name.
__all__ = ["child_exit", "metrics_dir_for", "on_starting", "post_fork", "use_metrics_dir"]

bind = os.environ.get("ORCHESTRATOR_BIND", "0.0.0.0:8080")
worker_class = "gthread"
workers = int(os.environ.get("ORCHESTRATOR_WORKERS", "2"))
# Each in-flight OCR request holds a thread while its backend works (a GPU page can take a minute).
threads = int(os.environ.get("ORCHESTRATOR_THREADS", "32"))
# gthread workers heartbeat from their main loop, so a long backend call does not trip this.
timeout = int(os.environ.get("ORCHESTRATOR_WORKER_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle a worker after this many requests (plus up to the jitter, so workers do not all restart
# at once) to contain slow leaks; 0 = never. A job still running in a recycled worker has the worker timeout to finish.
max_requests = int(os.environ.get("ORCHESTRATOR_MAX_REQUESTS", "10000"))
max_requests_jitter = int(os.environ.get("ORCHESTRATOR_MAX_REQUESTS_JITTER", str(max_requests // 10)))
# Metrics from every worker add up: prometheus-client's multiprocess directory, one per server,
# emptied on start (on_starting) and told of dead workers (child_exit).
use_metrics_dir(metrics_dir_for(bind, os.environ.get("METRICS_DIR")))
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = os.environ.get("ERROR_LOG", "-")
capture_output = True
