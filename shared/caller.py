"""Whether the caller of the request being served still waits for its answer.

A backend that was hung (SIGSTOP, a stuck GPU) or busy has a backlog when it comes back; the
orchestrator gave up on those requests long ago (its read timeout, or its own client left). Working
them off would keep the backend busy for nothing, so each request is asked once more when it gets
its work slot: is its connection still open, and is it within the time its caller said it waits
(``X-Request-Timeout``)?
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

from shared.http_common import REQUEST_TIMEOUT_HEADER


def peer_closed(sock: socket.socket) -> bool:
    """The other end closed the connection: it is readable and a peek reads end-of-file. Data
    waiting (a pipelined next request) means it is still there."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except (OSError, ValueError):  # reset, or already closed on our side
        return True


def caller_gone(
    environ: Mapping[str, Any], headers: Mapping[str, str] | Any, *, clock: Callable[[], float] = time.monotonic
) -> Callable[[], str | None]:
    """A check for :meth:`WorkGate.slot`: ``None`` while the caller waits, else why it does not."""
    started = clock()
    try:
        wait = float(headers.get(REQUEST_TIMEOUT_HEADER, ""))
    except ValueError:
        wait = float("inf")
    sock = environ.get("gunicorn.socket")

    def check() -> str | None:
        waited = clock() - started
        if waited > wait:
            return f"its caller waits {wait:g} s and it waited {waited:.1f} s for a work slot"
        if isinstance(sock, socket.socket) and peer_closed(sock):
            return "its caller closed the connection while it waited for a work slot"
        return None

    return check
