"""gunicorn server hooks shared by the deployment's configs (``deployment/gunicorn/*.conf.py``).

Metrics in several worker processes: prometheus-client's multiprocess mode wants one directory per
server (``PROMETHEUS_MULTIPROC_DIR``), set before any worker imports it, emptied when the server
starts (figures of an earlier run must not be added in) and told when a worker dies (its live
gauges must stop counting). This module must not import prometheus-client at import time: the
master reads the directory from the environment it sets here.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

#: prometheus-client reads it when first imported: it must be set before that, in the master.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Set when the directory is one this server made for itself (it removes it on exit).
OWN_DIR_ENV = "OCR_OWN_METRICS_DIR"


def metrics_dir_for(bind: str, configured: str | None = None) -> str:
    """The server's own metrics directory: ``METRICS_DIR`` if set, else a new private one (mode 0700,
    a name no other local user can guess or create first) under the temp dir, removed on exit. Never
    an inherited ``PROMETHEUS_MULTIPROC_DIR``: services started from one shell would share (and
    wipe) each other's."""
    if configured:
        return configured
    tag = re.sub(r"[^A-Za-z0-9]+", "_", bind).strip("_") or "default"
    path = tempfile.mkdtemp(prefix=f"ocr-metrics-{tag}-")
    os.environ[OWN_DIR_ENV] = path
    return path


def use_metrics_dir(path: str) -> None:
    """Called at config load, in the master, before any worker exists."""
    os.environ[MULTIPROC_ENV] = path


#: Set by the supervisor's configuration (deployment/supervisor_config.py): the master exits when
#: supervisord dies, instead of living on where no one can stop it.
EXIT_WITH_PARENT_ENV = "OCR_EXIT_WITH_PARENT"
_PR_SET_PDEATHSIG = 1


def exit_with_parent(sig: int) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent dies (``prctl(PR_SET_PDEATHSIG)``)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def on_starting(server: Any) -> None:
    path = os.environ[MULTIPROC_ENV]
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, mode=0o700, exist_ok=True)
    if os.environ.get(EXIT_WITH_PARENT_ENV) == "1":
        exit_with_parent(signal.SIGTERM)


def on_exit(server: Any) -> None:
    own = os.environ.get(OWN_DIR_ENV)
    if own and own == os.environ.get(MULTIPROC_ENV):
        shutil.rmtree(own, ignore_errors=True)


def post_fork(server: Any, worker: Any) -> None:
    """A worker dies with its master. Killed with SIGKILL, a master cannot stop its workers: they
    would keep the listening socket open (for half a minute and more, serving nothing) and the
    supervisor's new master could not bind the port."""
    exit_with_parent(signal.SIGKILL)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def resident_bytes(pid: int | None = None) -> int:
    """Resident memory of a process (this one by default), from /proc; 0 where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid or os.getpid()}/statm").read_text().split()
        return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def retire_above(worker: Any, limit_bytes: int) -> bool:
    """After a request: a worker over ``limit_bytes`` of resident memory retires (gunicorn finishes
    its requests in flight, the master starts a fresh worker; requests meanwhile wait in the listen
    backlog, not refused). The backstop for growth no setting removes; 0: never."""
    if limit_bytes <= 0 or not worker.alive or resident_bytes() <= limit_bytes:
        return False
    worker.log.info(
        "worker %s holds %d MiB (limit %d MiB): it retires", worker.pid, resident_bytes() >> 20, limit_bytes >> 20
    )
    worker.alive = False
    return True
