"""Posting a file to an app through Flask's test client, as a real multipart client would."""

from __future__ import annotations

from typing import Any

from tests.support.multipart import multipart


def post_file(
    client: Any,
    data: bytes,
    path: str = "/ocr",
    name: str = "doc.bin",
    *,
    headers: dict[str, str] | None = None,
    **fields: str,
) -> Any:
    body, content_type = multipart({"file": (name, data)}, fields)
    return client.post(path, data=body, content_type=content_type, headers=headers or {})
