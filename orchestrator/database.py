"""The orchestrator's SQLite database (jobs, their pages and events, the result cache).

One file in the data directory, shared by every gunicorn worker: a job started in one worker can
be read, followed and cancelled through another. WAL mode lets readers run while a writer writes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,               -- ocr | compare
    status TEXT NOT NULL,             -- queued | running | succeeded | failed | cancelled
    backends TEXT NOT NULL,           -- JSON list
    filename TEXT,
    options TEXT NOT NULL,            -- JSON object
    error TEXT,                       -- JSON object
    result TEXT,                      -- JSON object
    owner_pid INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    expires_at REAL
);
CREATE TABLE IF NOT EXISTS job_progress (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    backend TEXT NOT NULL,
    pages_done INTEGER NOT NULL DEFAULT 0,
    pages_total INTEGER,
    PRIMARY KEY (job_id, backend)
);
CREATE TABLE IF NOT EXISTS job_pages (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    backend TEXT NOT NULL,
    page INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (job_id, backend, page)
);
CREATE TABLE IF NOT EXISTS job_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS job_events_by_job ON job_events (job_id, seq);
CREATE TABLE IF NOT EXISTS result_cache (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    body BLOB NOT NULL,
    size INTEGER NOT NULL,
    stored_at REAL NOT NULL,
    used_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS result_cache_by_use ON result_cache (used_at);
"""


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.connection().executescript(SCHEMA)  # its own transaction; IF NOT EXISTS lets workers race

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections must not cross threads)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK`` on error): writers queue, never interleave."""
        connection = self.connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
