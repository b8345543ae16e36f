"""A server-sent event stream over rows of a store (jobs, evaluations): polled, resumable with
``Last-Event-ID``, kept alive through quiet spells, ended after the final status's last event."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Iterator

from flask import Response, request

from shared.errors import StateUnavailable

EVENT_POLL_S = 0.2
#: A comment line this often keeps proxies from closing a quiet event stream.
KEEPALIVE_S = 15.0


def last_event_id() -> int:
    try:
        return int(request.headers.get("Last-Event-ID", "0"))
    except ValueError:
        return 0


def event_stream(
    events_after: Callable[[int], list[tuple[int, str, str]]],
    status: Callable[[], str | None],
    final: Collection[str],
) -> Response:
    """``events_after(seq)`` gives ``(seq, type, data)`` rows; ``status()`` the current status."""
    last = last_event_id()

    def stream() -> Iterator[str]:
        seq, quiet_since = last, time.monotonic()
        while True:
            events: list[tuple[int, str, str]] = []
            try:
                events = events_after(seq)
                for seq, kind, data in events:
                    yield f"id: {seq}\nevent: {kind}\ndata: {data}\n\n"
                now = status()
                if now is None or (now in final and not events_after(seq)):
                    yield f"event: end\ndata: {json.dumps({'status': now})}\n\n"
                    return
            except StateUnavailable:
                pass  # the database is being reopened: keep the stream, look again
            if events:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > KEEPALIVE_S:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            time.sleep(EVENT_POLL_S)

    return Response(
        stream(), content_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
