"""Is one service ready? Used by startup.sh (waiting) and status.sh (once). Standard library only:
it runs before any environment is built.

    python3 deployment/health_probe.py URL MODE [--wait SECONDS] [--pid PID]

MODE ``model``: a backend, ready when its /health says ``model_loaded: true``; ``http``: the
orchestrator, ready on any 200. Prints one line (the model, or why not) and exits with
0 ready, 1 no answer / not ready in time, 2 the process PID exited, 3 the backend says its model
cannot load (``status: unavailable`` with a reason: waiting longer will not help), 4 still loading.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

READY, NO_ANSWER, EXITED, UNAVAILABLE, LOADING = 0, 1, 2, 3, 4


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
    try:
        with opener.open(urllib.request.Request(url, headers=access_headers()), timeout=5) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
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
    if not isinstance(health, dict):
        return NO_ANSWER, "answer is not a JSON object"
    if health.get("model_loaded") is True:
        return READY, str(health.get("model") or "model loaded")
    if health.get("status") == "unavailable" and health.get("reason"):
        return UNAVAILABLE, str(health["reason"])
    return LOADING, str(health.get("reason") or "loading")


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
