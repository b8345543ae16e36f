"""Jobs, their progress, finished pages and events, in the orchestrator's SQLite database.

Status only moves forward: queued → running → succeeded | failed | cancelled; a job in a final
state never changes again (a cancelled job whose last page comes back stays cancelled).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
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

    @property
    def final(self) -> bool:
        return self.status in FINAL


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs. A zombie does not: a killed worker whose parent died too may
    stay one for a while (in a container whose PID 1 does not reap, for good)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): trust kill()
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


class JobStore:
    def __init__(self, database: Database, ttl: float) -> None:
        self.database = database
        self.ttl = ttl

    def create(self, kind: str, backends: list[str], filename: str | None, options: dict[str, Any]) -> str:
        job_id = uuid.uuid4().hex
        now = time.time()
        with self.database.transaction() as connection:
            connection.execute(
                "INSERT INTO jobs (id, kind, status, backends, filename, options, owner_pid, created_at, updated_at) "
                "VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
                (job_id, kind, json.dumps(backends), filename, json.dumps(options), os.getpid(), now, now),
            )
            connection.executemany(
                "INSERT INTO job_progress (job_id, backend) VALUES (?, ?)", [(job_id, name) for name in backends]
            )
        self.add_event(job_id, "status", {"status": "queued"})
        return job_id

    def get(self, job_id: str) -> Job | None:
        connection = self.database.connection()
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
        )

    def pages(self, job_id: str) -> dict[str, list[dict[str, Any]]]:
        """Finished pages so far, per backend, in page order."""
        found: dict[str, list[dict[str, Any]]] = {}
        for row in self.database.connection().execute(
            "SELECT backend, body FROM job_pages WHERE job_id = ? ORDER BY backend, page", (job_id,)
        ):
            found.setdefault(row["backend"], []).append(json.loads(row["body"]))
        return found

    def status(self, job_id: str) -> str | None:
        row = self.database.connection().execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else str(row["status"])

    def set_status(
        self, job_id: str, status: str, *, error: dict[str, Any] | None = None, result: dict[str, Any] | None = None
    ) -> bool:
        """Move a job on; ``False`` (and no change) when it is already final."""
        now = time.time()
        expires = now + self.ttl if status in FINAL else None
        with self.database.transaction() as connection:
            changed = connection.execute(
                "UPDATE jobs SET status = ?, error = ?, result = ?, updated_at = ?, expires_at = ? "
                "WHERE id = ? AND status NOT IN ('succeeded', 'failed', 'cancelled')",
                (
                    status,
                    json.dumps(error) if error else None,
                    json.dumps(result) if result else None,
                    now,
                    expires,
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
            connection.execute(
                "INSERT OR REPLACE INTO job_pages (job_id, backend, page, body) VALUES (?, ?, ?, ?)",
                (job_id, backend, page["page"], json.dumps(page)),
            )
            connection.execute(
                "UPDATE job_progress SET pages_done = pages_done + 1 WHERE job_id = ? AND backend = ?",
                (job_id, backend),
            )
            progress = connection.execute(
                "SELECT pages_done, pages_total FROM job_progress WHERE job_id = ? AND backend = ?", (job_id, backend)
            ).fetchone()
            self._event(connection, job_id, "page", {"backend": backend, "page": page})
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
        rows = self.database.connection().execute(
            "SELECT seq, type, data FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq", (job_id, seq)
        )
        return [(row["seq"], row["type"], row["data"]) for row in rows]

    def fail_orphans(self) -> int:
        """Jobs left queued or running by a process that is gone: failed, with the reason. Jobs of
        other live workers are left alone."""
        orphans = [
            row["id"]
            for row in self.database.connection().execute(
                "SELECT id, owner_pid FROM jobs WHERE status IN ('queued', 'running')"
            )
            if row["owner_pid"] == os.getpid() or not _pid_alive(row["owner_pid"])
        ]
        for job_id in orphans:
            restarted = OrchestratorRestarted(
                "the orchestrator process running this job stopped (restart or crash) before it finished"
            )
            self.set_status(job_id, "failed", error=restarted.to_json())
        return len(orphans)

    def counts_by_status(self) -> dict[str, int]:
        rows = self.database.connection().execute("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").fetchall()
        return {row["status"]: int(row["n"]) for row in rows}

    def delete_expired(self) -> int:
        with self.database.transaction() as connection:
            return int(
                connection.execute(
                    "DELETE FROM jobs WHERE expires_at IS NOT NULL AND expires_at < ?", (time.time(),)
                ).rowcount
            )
