"""Reading a server-sent event stream line by line, the way a browser's EventSource does."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from ocr_client.models import JobEvent


def parse_events(lines: Iterable[str]) -> Iterator[JobEvent]:
    """Events from the stream's lines: ``id``/``event``/``data`` fields until a blank line; comment
    lines (keep-alives) skipped; ``data`` parsed as JSON (the service sends nothing else)."""
    fields: dict[str, str] = {}
    for line in lines:
        if line.startswith(":"):
            continue
        if line == "":
            if "data" in fields:
                event_id = fields.get("id")
                yield JobEvent(
                    int(event_id) if event_id and event_id.isdigit() else None,
                    fields.get("event", "message"),
                    json.loads(fields["data"]),
                )
            fields = {}
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        fields[name] = fields[name] + "\n" + value if name == "data" and name in fields else value
