"""gunicorn settings for an OCR backend: one process holds the model, threads take the requests.

One worker per model (per GPU for the GPU backends): a second worker would load a second copy of the
weights. Requests wait on threads while the backend's work gate lets ``max_concurrency`` run.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: `shared` lives there
from shared.backend_threads import backend_threads
from shared.gunicorn_hooks import (
    child_exit,
    metrics_dir_for,
    on_exit,
    on_starting,
    post_fork,
    retire_above,
    use_metrics_dir,
)

# gunicorn reads the hooks from this module by name.
__all__ = ["child_exit", "metrics_dir_for", "on_exit", "on_starting", "post_fork", "post_request", "use_metrics_dir"]

bind = os.environ.get("BACKEND_BIND", "127.0.0.1:5002")
worker_class = "gthread"
workers = int(os.environ.get("BACKEND_WORKERS", "1"))
# The backend reads the same setting to keep threads free for its health probes (shared/backend_server.py).
threads = backend_threads()
# Model loading happens when the worker imports the app; give it time before the master gives up.
timeout = int(os.environ.get("BACKEND_WORKER_TIMEOUT", "600"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "60"))
keepalive = 5
# Recycle a worker after this many requests (plus up to the jitter, so workers do not all restart
# at once) to contain slow leaks; 0 = never. Off by default: a new backend worker loads its model again (minutes on
# a GPU). MinerU's memory is the case for turning it on.
max_requests = int(os.environ.get("BACKEND_MAX_REQUESTS", "0"))
max_requests_jitter = int(os.environ.get("BACKEND_MAX_REQUESTS_JITTER", str(max_requests // 10)))
# A worker above this resident memory retires after its request (0 = never; the plan sets it for
# the CPU backends, whose reload takes a second or two).
_max_rss = int(os.environ.get("BACKEND_MAX_RSS_MB", "0")) * 2**20
# Metrics from every worker add up: prometheus-client's multiprocess directory, one per server,
# emptied on start (on_starting) and told of dead workers (child_exit).
use_metrics_dir(metrics_dir_for(bind, os.environ.get("METRICS_DIR")))
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = os.environ.get("ERROR_LOG", "-")
capture_output = True


def post_request(worker, req, environ, resp):
    retire_above(worker, _max_rss)
