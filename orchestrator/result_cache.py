"""Finished results, kept so that the same document with the same backend, options and backend
fingerprint is not OCR'd twice. Bounded in bytes (the least recently used results go first) and in
age (an entry older than the TTL is never served); the maintenance loop trims it, off the request path.

The cache is an optimisation: when the database fails (disk full, locked, gone) a lookup is a miss
and a write is skipped, counted (``ocr_cache_failures_total``) and logged now and then; the OCR
request it belongs to is answered all the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from orchestrator.database import Database, between_steps
from shared.errors import StateUnavailable
from shared.metrics import CACHE_FAILURES, CACHE_LOOKUPS

log = logging.getLogger(__name__)
#: A hit writes its use time only when the one stored is older than this: most hits write nothing.
TOUCH_EVERY_S = 60.0
#: Seconds between log lines about skipped cache operations.
LOG_EVERY_S = 60.0


def cache_key(document_sha256: str, backend: str, options: Mapping[str, Any], fingerprint: str) -> str:
    """The document's hash + backend + the request's options (exact values, defaults filled in; see
    ``OCRRequest.cache_options``) + the backend's fingerprint (model, settings, library versions).

    Never the file alone: the same page read by another model, or with other options, is another result.
    """
    material = json.dumps([document_sha256, backend, sorted(options.items()), fingerprint], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class ResultCache:
    def __init__(self, database: Database, max_bytes: int, ttl: float, *, touch_every: float = TOUCH_EVERY_S) -> None:
        self.database = database
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.touch_every = touch_every
        self._logged_at = 0.0
        self._skipped = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def _skip(self, operation: str, exc: StateUnavailable) -> None:
        CACHE_FAILURES.labels(operation).inc()
        self._skipped += 1
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY_S:
            self._logged_at = now
            log.warning("result cache %s skipped (%s); %d skipped in this process", operation, exc, self._skipped)

    def get(self, key: str) -> tuple[bytes, float] | None:
        """The stored body and when it was stored, or ``None`` (also for an entry past its TTL, and
        when the database cannot be read)."""
        if not self.enabled:
            return None
        now = time.time()
        try:
            with self.database.read() as connection:
                row = connection.execute(
                    "SELECT body, stored_at, used_at FROM result_cache WHERE key = ? AND stored_at >= ?",
                    (key, now - self.ttl),
                ).fetchone()
        except StateUnavailable as exc:
            self._skip("read", exc)
            return None
        CACHE_LOOKUPS.labels("miss" if row is None else "hit").inc()
        if row is None:
            return None
        if row["used_at"] <= now - self.touch_every:
            try:
                with self.database.transaction() as connection:
                    connection.execute("UPDATE result_cache SET used_at = ? WHERE key = ?", (now, key))
            except StateUnavailable as exc:
                self._skip("touch", exc)
        return bytes(row["body"]), float(row["stored_at"])

    def put(self, key: str, backend: str, body: bytes) -> None:
        """Store a result; the bound is kept by :meth:`trim`."""
        if not self.enabled or len(body) > self.max_bytes:
            return
        now = time.time()
        try:
            with self.database.transaction() as connection:
                connection.execute(
                    "INSERT OR REPLACE INTO result_cache (key, backend, body, size, stored_at, used_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (key, backend, body, len(body), now, now),
                )
            self.database.wrote(len(body))
        except StateUnavailable as exc:
            self._skip("write", exc)

    def trim(self, batch: int = 32) -> int:
        """Drop expired entries, then the least recently used ones while over the bound, ``batch``
        rows per transaction; the number dropped."""
        dropped = 0
        while True:
            with self.database.transaction() as connection:
                done = connection.execute(
                    "DELETE FROM result_cache WHERE key IN (SELECT key FROM result_cache WHERE stored_at < ? LIMIT ?)",
                    (time.time() - self.ttl, batch),
                ).rowcount
            dropped += done
            if done < batch:
                break
            between_steps()
        while True:
            with self.database.transaction() as connection:
                total = connection.execute("SELECT COALESCE(SUM(size), 0) FROM result_cache").fetchone()[0]
                if total <= self.max_bytes:
                    return dropped
                keys = []
                for row in connection.execute("SELECT key, size FROM result_cache ORDER BY used_at LIMIT ?", (batch,)):
                    keys.append((row["key"],))
                    total -= row["size"]
                    if total <= self.max_bytes:
                        break
                connection.executemany("DELETE FROM result_cache WHERE key = ?", keys)
            dropped += len(keys)
            between_steps()

    def stats(self) -> dict[str, int]:
        with self.database.read() as connection:
            row = connection.execute(
                "SELECT COUNT(*) AS entries, COALESCE(SUM(size), 0) AS bytes FROM result_cache"
            ).fetchone()
        return {"entries": row["entries"], "bytes": row["bytes"], "max_bytes": self.max_bytes}
