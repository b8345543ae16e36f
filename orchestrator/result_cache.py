"""Finished results, kept so that the same document with the same backend, options and model is
not OCR'd twice. Bounded in bytes; the least recently used results go first."""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping

from orchestrator.database import Database
from shared.metrics import CACHE_LOOKUPS

#: Request fields that do not change the result (they choose how it is delivered).
NOT_RESULT_FIELDS = frozenset({"backend", "backends", "cache", "reference"})


def cache_key(document_sha256: str, backend: str, options: Mapping[str, str], model: str) -> str:
    """The document's hash + backend + normalised options + the backend's model id and version.

    Never the file alone: the same page read by another model, or with other options, is another result.
    """
    normalised = {name: " ".join(str(value).split()) for name, value in options.items()
                  if name not in NOT_RESULT_FIELDS and str(value).strip()}
    material = json.dumps([document_sha256, backend, sorted(normalised.items()), model], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class ResultCache:
    def __init__(self, database: Database, max_bytes: int) -> None:
        self.database = database
        self.max_bytes = max_bytes

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def get(self, key: str) -> tuple[bytes, float] | None:
        """The stored body and when it was stored, or ``None``."""
        if not self.enabled:
            return None
        with self.database.transaction() as connection:
            row = connection.execute("SELECT body, stored_at FROM result_cache WHERE key = ?", (key,)).fetchone()
            CACHE_LOOKUPS.labels("miss" if row is None else "hit").inc()
            if row is None:
                return None
            connection.execute("UPDATE result_cache SET used_at = ? WHERE key = ?", (time.time(), key))
        return bytes(row["body"]), float(row["stored_at"])

    def put(self, key: str, backend: str, body: bytes) -> None:
        if not self.enabled or len(body) > self.max_bytes:
            return
        now = time.time()
        with self.database.transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO result_cache (key, backend, body, size, stored_at, used_at) VALUES (?, ?, ?, ?, ?, ?)",
                (key, backend, body, len(body), now, now))
            total = connection.execute("SELECT COALESCE(SUM(size), 0) FROM result_cache").fetchone()[0]
            while total > self.max_bytes:
                oldest = connection.execute(
                    "SELECT key, size FROM result_cache ORDER BY used_at LIMIT 1").fetchone()
                connection.execute("DELETE FROM result_cache WHERE key = ?", (oldest["key"],))
                total -= oldest["size"]

    def stats(self) -> dict[str, int]:
        row = self.database.connection().execute(
            "SELECT COUNT(*) AS entries, COALESCE(SUM(size), 0) AS bytes FROM result_cache").fetchone()
        return {"entries": row["entries"], "bytes": row["bytes"], "max_bytes": self.max_bytes}
