"""Is one service ready? Used by startup.sh (waiting) and status.sh (once). Standard library only
(and ``shared/health.py``, which is too): it runs before any environment is built.

    python3 deployment/health_probe.py URL MODE [--wait SECONDS] [--pid PID]

MODE ``model``: a backend, judged by ``shared.health.read_health`` (the orchestrator's rule): ready
when its /health says ``model_loaded: true``; ``http``: the orchestrator, ready on any 200. Prints
one line (the model, or why not) and exits with 0 ready, 1 no answer / not ready in time, 2 the
process PID exited, 3 the backend says its model cannot load (``status: unavailable`` with a reason:
waiting longer will not help), 4 still loading.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

if not __package__:  # run as a script (python3 deployment/health_probe.py): find ``shared`` beside us
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.health import HealthState, read_health

READY, NO_ANSWER, EXITED, UNAVAILABLE, LOADING = 0, 1, 2, 3, 4
#: The exit code for each state a health answer reads as.
EXIT_CODES = {
    HealthState.HEALTHY: READY,
    HealthState.LOADING: LOADING,
    HealthState.UNAVAILABLE: UNAVAILABLE,
    HealthState.UNREACHABLE: NO_ANSWER,
    HealthState.UNKNOWN: NO_ANSWER,
}


def alive(pid: int) -> bool:
    """The process exists and is no zombie (a master startup.sh has not reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def access_headers(env: dict[str, str] | os._Environ[str] = os.environ) -> dict[str, str]:
    """With access configured (issue #8), /health wants the backends' token or an orchestrator key."""
    headers: dict[str, str] = {}
    if env.get("BACKEND_TOKEN"):
        headers["X-Backend-Token"] = env["BACKEND_TOKEN"]
    keys = [key.strip() for key in env.get("ORCHESTRATOR_API_KEYS", "").split(",") if key.strip()]
    if keys:
        headers["X-API-Key"] = keys[0]
    return headers


def probe(opener: urllib.request.OpenerDirector, url: str, mode: str) -> tuple[int, str]:
    http_ok = True
    try:
        with opener.open(urllib.request.Request(url, headers=access_headers()), timeout=5) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        body, http_ok = exc.read(), False
        if mode == "http":
            return NO_ANSWER, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return NO_ANSWER, str(getattr(exc, "reason", exc))
    if mode == "http":
        return READY, "answering"
    try:
        health = json.loads(body)
    except ValueError:
        return NO_ANSWER, "answer is not JSON"
    state, reason = read_health(health, http_ok)
    if state is HealthState.HEALTHY:
        return READY, str(health.get("model") or "model loaded")
    return EXIT_CODES[state], str(reason)


def opener() -> urllib.request.OpenerDirector:
    """No proxy: an http_proxy in the environment must not capture requests to our own services."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("mode", choices=("model", "http"))
    parser.add_argument("--wait", type=float, default=0.0, help="seconds to keep trying (0: ask once)")
    parser.add_argument("--pid", type=int, help="give up at once when this process exits")
    args = parser.parse_args(argv)
    http = opener()
    deadline = time.monotonic() + args.wait
    while True:
        if args.pid is not None and not alive(args.pid):
            print(f"process {args.pid} exited")
            return EXITED
        code, detail = probe(http, args.url, args.mode)
        if code in (READY, UNAVAILABLE) or time.monotonic() >= deadline:
            print(detail)
            return code
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
