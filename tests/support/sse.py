"""Reading a server-sent event stream the way a browser's EventSource does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests


@dataclass(frozen=True)
class Event:
    id: int | None
    type: str
    data: Any


def read_events(url: str, *, timeout: float = 120, last_event_id: int | None = None) -> list[Event]:
    """Every event until the server ends the stream."""
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    events: list[Event] = []
    with requests.get(url, stream=True, timeout=timeout, headers=headers) as response:
        response.raise_for_status()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith(":"):
                continue
            if line == "":
                if fields:
                    events.append(
                        Event(
                            int(fields["id"]) if "id" in fields else None,
                            fields.get("event", "message"),
                            json.loads(fields.get("data", "null")),
                        )
                    )
                fields = {}
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
    return events
