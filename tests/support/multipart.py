"""Multipart bodies as real clients (curl, requests, browsers) encode them.

Werkzeug's test client leaves out the line break that ends an empty part, which RFC 7578 parsers
(ours: python-multipart) read as no part at all; tests that post through ``app.test_client()``
send bodies made here instead.
"""

from __future__ import annotations

from urllib3 import encode_multipart_formdata


def multipart(files: dict[str, tuple[str, bytes]], fields: dict[str, str] | None = None) -> tuple[bytes, str]:
    """(body, content type) for ``files`` (field → (filename, bytes)) and plain ``fields``."""
    parts: dict[str, str | tuple[str, bytes]] = {**(fields or {}), **files}
    return encode_multipart_formdata(parts)
