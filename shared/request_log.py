"""Logs as JSON lines: one object per record, with the request id of the request it belongs to, and
one access line per request (``event: request``) with backend, status, sizes and time.

Never the document, its text or its file name: only sizes and identifiers.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

ACCESS_LOGGER = "ocr_service.access"
#: Attribute of a log record holding structured fields for the JSON object.
FIELDS_ATTR = "fields"


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "service": self.service,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        entry.update(getattr(record, FIELDS_ATTR, None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_request(fields: dict[str, Any]) -> None:
    """The access line of one request."""
    # Status first: the line must not read like gunicorn's access line ("POST /ocr HTTP/1.1"), which
    # tests and operators grep for.
    logging.getLogger(ACCESS_LOGGER).info(
        "%s %s %s",
        fields.get("status"),
        fields.get("method"),
        fields.get("path"),
        extra={FIELDS_ATTR: {"event": "request", **fields}},
    )
