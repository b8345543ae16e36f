"""Finished results, kept so that the same document with the same backend, options and backend
fingerprint is not OCR'd twice. Bounded in bytes (the least recently used results go first) and in
age (an entry older than the TTL is never served)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

from orchestrator.database import Database
from shared.metrics import CACHE_LOOKUPS


def cache_key(document_sha256: str, backend: str, options: Mapping[str, Any], fingerprint: str) -> str:
    """The document's hash + backend + the request's options (exact values, defaults filled in; see
    ``OCRRequest.cache_options``) + the backend's fingerprint (model, settings, library versions).

    Never the file alone: the same page read by another model, or with other options, is another result.
    """
    material = json.dumps([document_sha256, backend, sorted(options.items()), fingerprint], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class ResultCache:
    def __init__(self, database: Database, max_bytes: int, ttl: float) -> None:
        self.database = database
        self.max_bytes = max_bytes
        self.ttl = ttl

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def get(self, key: str) -> tuple[bytes, float] | None:
        """The stored body and when it was stored, or ``None`` (also for an entry past its TTL)."""
        if not self.enabled:
            return None
        now = time.time()
        with self.database.transaction() as connection:
            row = connection.execute(
                "SELECT body, stored_at FROM result_cache WHERE key = ? AND stored_at >= ?", (key, now - self.ttl)
            ).fetchone()
            CACHE_LOOKUPS.labels("miss" if row is None else "hit").inc()
            if row is None:
                return None
            connection.execute("UPDATE result_cache SET used_at = ? WHERE key = ?", (now, key))
        return bytes(row["body"]), float(row["stored_at"])

    def put(self, key: str, backend: str, body: bytes) -> None:
        if not self.enabled or len(body) > self.max_bytes:
            return
        now = time.time()
        with self.database.transaction() as connection:
            connection.execute("DELETE FROM result_cache WHERE stored_at < ?", (now - self.ttl,))
            connection.execute(
                "INSERT OR REPLACE INTO result_cache (key, backend, body, size, stored_at, used_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (key, backend, body, len(body), now, now),
            )
            total = connection.execute("SELECT COALESCE(SUM(size), 0) FROM result_cache").fetchone()[0]
            while total > self.max_bytes:
                oldest = connection.execute("SELECT key, size FROM result_cache ORDER BY used_at LIMIT 1").fetchone()
                connection.execute("DELETE FROM result_cache WHERE key = ?", (oldest["key"],))
                total -= oldest["size"]

    def stats(self) -> dict[str, int]:
        row = (
            self.database.connection()
            .execute("SELECT COUNT(*) AS entries, COALESCE(SUM(size), 0) AS bytes FROM result_cache")
            .fetchone()
        )
        return {"entries": row["entries"], "bytes": row["bytes"], "max_bytes": self.max_bytes}
