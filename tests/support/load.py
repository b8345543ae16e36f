"""A bounded load run: ``clients`` threads, each with its own keep-alive session, post the same small
document until ``total`` requests have been answered; what came back is tallied and checked as it
arrives. Shared by the load test (which checks) and ``bench/load.py`` (which reports throughput)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from orchestrator.backend_client import dropped_without_answer


@dataclass
class LoadResult:
    statuses: Counter = field(default_factory=Counter)
    #: Answers that should not have happened, described.
    unintended: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    #: Requests sent again because the kept-alive connection was closed before any answer (the
    #: HTTP/1.1 keep-alive race every client must handle; the service's own client does the same).
    resent: int = 0


class _Outstanding:
    """Requests sent and not yet answered, and for each the most that were outstanding during its life:
    a 503 for a bound of N is right only if at some moment more than N requests were outstanding."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._peaks: dict[int, int] = {}
        self._next = 0

    def start(self) -> int:
        with self._lock:
            ticket = self._next
            self._next += 1
            self._peaks[ticket] = 0
            now = len(self._peaks)
            for key in self._peaks:
                self._peaks[key] = max(self._peaks[key], now)
            return ticket

    def finish(self, ticket: int) -> int:
        with self._lock:
            return self._peaks.pop(ticket)


def run_load(
    url: str,
    document: bytes,
    *,
    total: int,
    clients: int,
    bound: int,
    fields: list[dict[str, str]],
    backoff: float = 0.1,
    headers: dict[str, str] | None = None,
    sessions: list[requests.Session] | None = None,
) -> LoadResult:
    """``bound``: requests the service lets wait at once; a 503 with fewer outstanding is unintended.
    ``fields``: the form fields of request *n* are ``fields[n % len(fields)]``."""
    result = LoadResult()
    outstanding = _Outstanding()
    lock = threading.Lock()
    remaining = [total]
    sessions = sessions or [requests.Session() for _ in range(clients)]

    def client(session: requests.Session) -> None:
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
                form = fields[remaining[0] % len(fields)]
            ticket = outstanding.start()
            started = time.perf_counter()
            try:
                try:
                    response = session.post(
                        url, files={"file": ("load.png", document)}, data=form, headers=headers or {}, timeout=120
                    )
                except requests.ConnectionError as exc:
                    if not dropped_without_answer(exc):
                        raise
                    with lock:
                        result.resent += 1
                    response = session.post(
                        url, files={"file": ("load.png", document)}, data=form, headers=headers or {}, timeout=120
                    )
                status, body = response.status_code, response.json()
                retry_after = response.headers.get("Retry-After")
            except Exception as exc:  # a broken connection is an unintended result, not a crash
                status, body, retry_after = -1, {"error": {"code": type(exc).__name__, "message": str(exc)[:300]}}, None
            peak = outstanding.finish(ticket)
            with lock:
                result.statuses[status] += 1
                result.latencies.append(time.perf_counter() - started)
                if status == 503 and body.get("error", {}).get("code") == "overloaded":
                    if peak <= bound or not retry_after:
                        result.unintended.append(
                            f"503 with only {peak} outstanding (bound {bound}), Retry-After {retry_after!r}"
                        )
                elif status != 200:
                    result.unintended.append(f"{status}: {body.get('error')}")
            if status == 503:
                time.sleep(backoff)  # Retry-After, scaled down for a test

    threads = [threading.Thread(target=client, args=(session,)) for session in sessions]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def _targets(pid: int) -> list[str]:
    targets = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            targets.append(str(fd.readlink()))
        except OSError:  # closed while we looked
            pass
    return targets


def process_figures(pid: int) -> dict[str, int]:
    """A process's open descriptors (sockets apart from files, pipes and the rest), threads and
    resident memory (KiB), from /proc."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    targets = _targets(pid)
    sockets = sum(1 for target in targets if target.startswith("socket:"))
    return {
        "files": len(targets) - sockets,
        "sockets": sockets,
        "threads": int(status["Threads"].strip()),
        "rss_kib": int(status["VmRSS"].split()[0]),
    }


def files_under(path: Path) -> list[str]:
    return sorted(str(item.relative_to(path)) for item in path.rglob("*") if item.is_file())
