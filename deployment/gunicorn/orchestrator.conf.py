"""gunicorn settings for the orchestrator: I/O-bound (it waits on backends, holds event streams).

gevent workers: each connection is a greenlet, so an open event stream, a slow client or a wait on a
hung backend costs a few kilobytes, not one of a few dozen threads (bench/starvation.py measured
both; PLAN.md). In the standard deployment nginx (deployment/front.py) stands in front and buffers
requests, so slow clients never reach these workers at all.

Every value can be overridden from the environment; startup.sh sets the bind address and port.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: `shared` lives there
from orchestrator import recycling  # standard library only at import: safe before gevent patches
from orchestrator.config import OrchestratorConfig
from shared.gunicorn_hooks import child_exit, metrics_dir_for, on_exit, on_starting, post_fork, use_metrics_dir

# gunicorn reads the hooks from this module by name.
__all__ = ["child_exit", "metrics_dir_for", "on_exit", "on_starting", "post_fork", "post_request", "use_metrics_dir"]

_config = OrchestratorConfig.from_env()  # fails here, in the master, on a wrong setting
bind = os.environ.get("ORCHESTRATOR_BIND", "127.0.0.1:8080")
worker_class = os.environ.get("ORCHESTRATOR_WORKER_CLASS", "gevent")
workers = int(os.environ.get("ORCHESTRATOR_WORKERS", "2"))
worker_connections = _config.worker_connections
# Only for ORCHESTRATOR_WORKER_CLASS=gthread (the measured alternative).
threads = int(os.environ.get("ORCHESTRATOR_THREADS", "32"))
# Workers heartbeat from their main loop (a greenlet), so a long backend call does not trip this.
timeout = int(os.environ.get("ORCHESTRATOR_WORKER_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycling counts work requests only and waits for the worker's jobs (orchestrator/recycling.py);
# gunicorn's own counter (every request, jobs cut off) stays off.
max_requests = 0
_recycle_after = recycling.limit_for(_config.max_work_requests)
# Metrics from every worker add up: prometheus-client's multiprocess directory, one per server,
# emptied on start (on_starting) and told of dead workers (child_exit).
use_metrics_dir(metrics_dir_for(bind, os.environ.get("METRICS_DIR")))
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = os.environ.get("ERROR_LOG", "-")
capture_output = True


def post_request(worker, req, environ, resp):
    recycling.count_work(worker, req.method, _recycle_after)
