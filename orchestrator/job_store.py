"""Jobs, their progress, finished pages and events, in the orchestrator's SQLite database.

Status only moves forward: queued → running → succeeded | failed | cancelled; a job in a final
state never changes again (a cancelled job whose last page comes back stays cancelled).

Each page is stored once, in ``job_pages``: its ``page`` event names it and the event stream reads
the body from there; the stored result has no pages. A job's document is kept in ``job_documents``
(its page images are served from it), counted in the job's size. Finished jobs go when they expire or, oldest
first, when the jobs' bytes pass the quota; either way they vanish at once and are deleted in
small steps by the maintenance loop.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

from orchestrator.database import Database
from shared.errors import OrchestratorRestarted

FINAL = ("succeeded", "failed", "cancelled")


@dataclass
class Job:
    id: str
    kind: str
    status: str
    backends: list[str]
    filename: str | None
    options: dict[str, Any]
    error: dict[str, Any] | None
    result: dict[str, Any] | None
    created_at: float
    updated_at: float
    expires_at: float | None
    progress: dict[str, dict[str, int | None]]
    #: Who made it (a digest of its API key); ``None`` when no keys are configured.
    tenant: str | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL


@dataclass(frozen=True)
class StoredDocument:
    """A job's document as kept: its format's name (``png``, ``pdf``…) and its bytes."""

    format: str
    data: bytes


@dataclass(frozen=True)
class JobSummary:
    """A job in a listing: what it is and how far it got, without its pages or result."""

    id: str
    kind: str
    status: str
    backends: list[str]
    filename: str | None
    #: The kept document's format (``png``, ``pdf``…); ``None`` when it was not kept.
    document_format: str | None
    created_at: float
    updated_at: float
    expires_at: float | None
    pages_done: int
    pages_total: int | None


#: Rows deleted per transaction when a job goes: the write lock is never held long.
PURGE_BATCH = 64


class JobStore:
    def __init__(self, database: Database, ttl: float) -> None:
        self.database = database
        self.ttl = ttl

    def create(
        self,
        kind: str,
        backends: list[str],
        filename: str | None,
        options: dict[str, Any],
        tenant: str | None = None,
        document: StoredDocument | None = None,
    ) -> str:
        """A new queued job, with the ``document`` it reads when given (its page images are served
        from it); :class:`StateUnavailable` (503) when the database cannot be written."""
        self.database.require_writable()
        job_id = uuid.uuid4().hex
        now = time.time()
        size = len(document.data) if document else 0
        with self.database.transaction() as connection:
            connection.execute(
                "INSERT INTO jobs (id, kind, status, backends, filename, options, owner_pid, created_at, updated_at, "
                "tenant, size) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    kind,
                    json.dumps(backends),
                    filename,
                    json.dumps(options),
                    os.getpid(),
                    now,
                    now,
                    tenant,
                    size,
                ),
            )
            connection.executemany(
                "INSERT INTO job_progress (job_id, backend) VALUES (?, ?)", [(job_id, name) for name in backends]
            )
            if document is not None:
                connection.execute(
                    "INSERT INTO job_documents (job_id, format, data) VALUES (?, ?, ?)",
                    (job_id, document.format, document.data),
                )
        if size:
            self.database.wrote(size)
        self.add_event(job_id, "status", {"status": "queued"})
        return job_id

    def document(self, job_id: str) -> StoredDocument | None:
        """The document job ``job_id`` was made from; ``None`` when it was not kept."""
        with self.database.read() as connection:
            row = connection.execute("SELECT format, data FROM job_documents WHERE job_id = ?", (job_id,)).fetchone()
        return None if row is None else StoredDocument(str(row["format"]), bytes(row["data"]))

    def page_width(self, job_id: str, page: int) -> int | None:
        """The width in pixels of page ``page`` as the first backend (by name) that finished it
        read it: what a PDF page was rendered at. ``None`` while no backend has finished it."""
        with self.database.read() as connection:
            row = connection.execute(
                "SELECT json_extract(body, '$.width') AS width FROM job_pages WHERE job_id = ? AND page = ? "
                "ORDER BY backend LIMIT 1",
                (job_id, page),
            ).fetchone()
        return None if row is None or row["width"] is None else int(row["width"])

    def recent(self, tenant: str | None, limit: int) -> list[JobSummary]:
        """The newest ``limit`` jobs of ``tenant`` (``None``: the jobs made without keys) that are
        not gone, newest first, without their pages or result."""
        with self.database.read() as connection:
            rows = connection.execute(
                "SELECT j.id, j.kind, j.status, j.backends, j.filename, j.created_at, j.updated_at, j.expires_at, "
                "d.format, (SELECT COALESCE(SUM(pages_done), 0) FROM job_progress WHERE job_id = j.id) AS done, "
                "(SELECT CASE WHEN COUNT(*) = COUNT(pages_total) THEN SUM(pages_total) END "
                "FROM job_progress WHERE job_id = j.id) AS total "
                "FROM jobs j LEFT JOIN job_documents d ON d.job_id = j.id "
                "WHERE j.tenant IS ? AND (j.expires_at IS NULL OR j.expires_at >= ?) "
                "ORDER BY j.created_at DESC, j.rowid DESC LIMIT ?",
                (tenant, time.time(), limit),
            ).fetchall()
        return [
            JobSummary(
                id=row["id"],
                kind=row["kind"],
                status=row["status"],
                backends=json.loads(row["backends"]),
                filename=row["filename"],
                document_format=row["format"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
                expires_at=row["expires_at"],
                pages_done=int(row["done"]),
                pages_total=None if row["total"] is None else int(row["total"]),
            )
            for row in rows
        ]

    def get(self, job_id: str) -> Job | None:
        with self.database.read() as connection:
            row = connection.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or (row["expires_at"] is not None and row["expires_at"] < time.time()):
                return None
            progress = {
                p["backend"]: {"pages_done": p["pages_done"], "pages_total": p["pages_total"]}
                for p in connection.execute("SELECT * FROM job_progress WHERE job_id = ?", (job_id,))
            }
        return Job(
            id=row["id"],
            kind=row["kind"],
            status=row["status"],
            backends=json.loads(row["backends"]),
            filename=row["filename"],
            options=json.loads(row["options"]),
            error=json.loads(row["error"]) if row["error"] else None,
            result=json.loads(row["result"]) if row["result"] else None,
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            expires_at=row["expires_at"],
            progress=progress,
            tenant=row["tenant"],
        )

    def pages(self, job_id: str) -> dict[str, list[dict[str, Any]]]:
        """Finished pages so far, per backend, in page order."""
        found: dict[str, list[dict[str, Any]]] = {}
        with self.database.read() as connection:
            rows = connection.execute(
                "SELECT backend, body FROM job_pages WHERE job_id = ? ORDER BY backend, page", (job_id,)
            ).fetchall()
        for row in rows:
            found.setdefault(row["backend"], []).append(json.loads(row["body"]))
        return found

    def status(self, job_id: str) -> str | None:
        with self.database.read() as connection:
            row = connection.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else str(row["status"])

    def set_status(
        self, job_id: str, status: str, *, error: dict[str, Any] | None = None, result: dict[str, Any] | None = None
    ) -> bool:
        """Move a job on; ``False`` (and no change) when it is already final."""
        now = time.time()
        expires = now + self.ttl if status in FINAL else None
        stored = json.dumps(result) if result else None
        with self.database.transaction() as connection:
            changed = connection.execute(
                "UPDATE jobs SET status = ?, error = ?, result = ?, updated_at = ?, expires_at = ?, size = size + ? "
                "WHERE id = ? AND status NOT IN ('succeeded', 'failed', 'cancelled')",
                (
                    status,
                    json.dumps(error) if error else None,
                    stored,
                    now,
                    expires,
                    len(stored or ""),
                    job_id,
                ),
            ).rowcount
        if changed:
            data: dict[str, Any] = {"status": status}
            if error:
                data["error"] = error
            self.add_event(job_id, "status", data)
        return bool(changed)

    def set_total(self, job_id: str, backend: str, pages_total: int) -> None:
        with self.database.transaction() as connection:
            connection.execute(
                "UPDATE job_progress SET pages_total = ? WHERE job_id = ? AND backend = ?",
                (pages_total, job_id, backend),
            )
        self.add_event(job_id, "progress", {"backend": backend, "pages_done": 0, "pages_total": pages_total})

    def add_page(self, job_id: str, backend: str, page: dict[str, Any]) -> None:
        """Record one finished page and its progress, unless the job is already final."""
        with self.database.transaction() as connection:
            status = connection.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if status is None or status["status"] in FINAL:
                return
            body = json.dumps(page)
            connection.execute(
                "INSERT OR REPLACE INTO job_pages (job_id, backend, page, body) VALUES (?, ?, ?, ?)",
                (job_id, backend, page["page"], body),
            )
            connection.execute("UPDATE jobs SET size = size + ? WHERE id = ?", (len(body), job_id))
            self.database.wrote(len(body))
            connection.execute(
                "UPDATE job_progress SET pages_done = pages_done + 1 WHERE job_id = ? AND backend = ?",
                (job_id, backend),
            )
            progress = connection.execute(
                "SELECT pages_done, pages_total FROM job_progress WHERE job_id = ? AND backend = ?", (job_id, backend)
            ).fetchone()
            self._event(connection, job_id, "page", {"backend": backend, "page": page["page"]})
            self._event(
                connection,
                job_id,
                "progress",
                {"backend": backend, "pages_done": progress["pages_done"], "pages_total": progress["pages_total"]},
            )

    def add_event(self, job_id: str, kind: str, data: dict[str, Any]) -> None:
        with self.database.transaction() as connection:
            self._event(connection, job_id, kind, data)

    @staticmethod
    def _event(connection: Any, job_id: str, kind: str, data: dict[str, Any]) -> None:
        connection.execute(
            "INSERT INTO job_events (job_id, type, data) VALUES (?, ?, ?)", (job_id, kind, json.dumps(data))
        )

    def events_after(self, job_id: str, seq: int) -> list[tuple[int, str, str]]:
        """``(seq, type, data)`` after ``seq``; a page event's data carries the page's body, as
        ``{"backend": …, "page": {…}}`` (the text ``json.dumps`` gives, without parsing the page)."""
        with self.database.read() as connection:
            rows = connection.execute(
                "SELECT e.seq, e.type, e.data, p.backend, p.body FROM job_events e "
                "LEFT JOIN job_pages p ON e.type = 'page' AND p.job_id = e.job_id "
                "AND p.backend = json_extract(e.data, '$.backend') AND p.page = json_extract(e.data, '$.page') "
                "WHERE e.job_id = ? AND e.seq > ? ORDER BY e.seq",
                (job_id, seq),
            ).fetchall()
        return [
            (row["seq"], row["type"], row["data"] if row["body"] is None else _page_event(row["backend"], row["body"]))
            for row in rows
        ]

    def fail_orphans(self) -> int:
        """Jobs left queued or running by a process that is gone: failed, with the reason. Jobs of
        other live workers are left alone."""
        orphans = self.database.orphaned("jobs")
        for job_id in orphans:
            restarted = OrchestratorRestarted(
                "the orchestrator process running this job stopped (restart or crash) before it finished"
            )
            self.set_status(job_id, "failed", error=restarted.to_json())
        return len(orphans)

    def counts_by_status(self) -> dict[str, int]:
        with self.database.read() as connection:
            rows = connection.execute("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").fetchall()
        return {row["status"]: int(row["n"]) for row in rows}

    def total_bytes(self) -> int:
        """Bytes of the pages and results of the jobs not yet gone (what the quota counts)."""
        return self.database.live_bytes("jobs")

    def enforce_quota(self, max_bytes: int) -> int:
        """Finished jobs, oldest first, expire now while the jobs hold more than ``max_bytes``
        (running ones are never cut short); how many did."""
        return self.database.enforce_quota("jobs", FINAL, max_bytes)

    def delete_expired(self, batch: int = PURGE_BATCH) -> int:
        """Delete expired jobs (they are invisible already), ``batch`` rows per transaction; how many."""
        return self.database.delete_expired("jobs", ("job_pages", "job_events", "job_documents"), "job_id", batch)


def _page_event(backend: str, body: str) -> str:
    return f'{{"backend": {json.dumps(backend)}, "page": {body}}}'
