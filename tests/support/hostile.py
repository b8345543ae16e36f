"""Hostile load on the real services: a stack of echo backends behind an orchestrator (gevent or
gthread workers, with or without the nginx front) and a crowd of cheap hostile connections. Used by
tests/integration/test_hostile_load.py and bench/starvation.py."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import Service, start_backend, start_front, start_orchestrator, wait_healthy, worker_pids

ECHO = "bench.echo_backend:app"


@dataclass
class Stack:
    front: Service | None
    orchestrator: Service
    backends: dict[str, Service]

    @property
    def entry(self) -> Service:
        return self.front or self.orchestrator

    @property
    def url(self) -> str:
        return self.entry.url


@contextmanager
def stack(
    tmp_path: Path, backends: dict[str, dict[str, str]], *, env: dict[str, str] | None = None, front: bool = True
) -> Iterator[Stack]:
    """Echo backends (``name -> their environment``) and an orchestrator, behind the front unless
    ``front`` is false (then :attr:`Stack.url` is the orchestrator's own)."""
    started: list[Service] = []
    try:
        served = {}
        for name, backend_env in backends.items():
            served[name] = start_backend(name, tmp_path, app=ECHO, env=backend_env)
            started.append(served[name])
        orchestrator_env = {
            "ORCHESTRATOR_BEHIND_FRONT": "1" if front else "0",
            "OCR_DEFAULT_BACKEND": next(iter(backends)),
            "HEALTH_INTERVAL": "0.5",
            "HEALTH_TIMEOUT": "0.5",
            **(env or {}),
        }
        orchestrator = start_orchestrator({n: s.url for n, s in served.items()}, tmp_path, env=orchestrator_env)
        started.append(orchestrator)
        entry = start_front(orchestrator, tmp_path, env=env) if front else None
        if entry is not None:
            started.append(entry)
        for service in served.values():
            wait_healthy(service)
        wait_healthy(orchestrator, need_model=False)
        yield Stack(entry, orchestrator, served)
    finally:
        for service in reversed(started):
            for pid in [service.process.pid, *worker_pids(service.process.pid)]:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            service.stop()


class Crowd:
    """Many hostile connections held open from one thread: event streams, headers sent a line a
    second, uploads sent a kilobyte a second."""

    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.selector = selectors.DefaultSelector()
        self.slow_headers: list[socket.socket] = []
        self.slow_uploads: list[socket.socket] = []
        self.streams: list[socket.socket] = []
        self.stream_bytes = 0
        self.answered: set[int] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=5)
        sock.setblocking(False)
        return sock

    def open(self, job_id: str, streams: int, slow_headers: int, slow_uploads: int) -> None:
        for _ in range(streams):
            sock = self._connect()
            sock.sendall(f"GET /jobs/{job_id}/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n".encode())
            self.streams.append(sock)
            self.selector.register(sock, selectors.EVENT_READ)
        for _ in range(slow_headers):
            sock = self._connect()
            sock.sendall(b"GET /live HTTP/1.1\r\n")
            self.slow_headers.append(sock)
        for _ in range(slow_uploads):
            sock = self._connect()
            sock.sendall(
                b"POST /ocr HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                b"Content-Length: 10000000\r\n\r\n--b\r\n"
            )
            self.slow_uploads.append(sock)
        self.thread.start()

    def _run(self) -> None:
        last = 0.0
        while not self.stop.is_set():
            for key, _ in self.selector.select(timeout=0.2):
                try:
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    self.stream_bytes += len(data)
                    if b"event: status" in data:  # the stream's first event: it is being served
                        self.answered.add(key.fd)
                except (BlockingIOError, ConnectionError):
                    pass
            if time.monotonic() - last >= 1.0:
                last = time.monotonic()
                for sock in self.slow_headers:
                    try:
                        sock.send(b"X-Slow: 1\r\n")
                    except OSError:
                        pass
                for sock in self.slow_uploads:
                    try:
                        sock.send(b"x" * 1024)
                    except OSError:
                        pass

    def served_streams(self) -> int:
        """Streams whose first event (the job's status) has arrived."""
        return len(self.answered)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for sock in self.streams + self.slow_headers + self.slow_uploads:
            sock.close()
