"""Evaluations in the orchestrator's SQLite database: the set's documents (name, kind, pages, ground
truth), one scored result per document × backend (its counts, time, markdown and pages) and events.

Status moves only forward (queued → running → done | cancelled | failed), as jobs' do; a result that
comes back after the evaluation became final is dropped. Finished evaluations expire after the job
TTL and are deleted by the maintenance loop; one left queued or running by a process that is gone is
failed with ``orchestrator_restarted`` at start (its documents were in that process's memory).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

from orchestrator.database import Database
from orchestrator.evaluation_scores import Scored
from orchestrator.job_store import PURGE_BATCH
from orchestrator.text_metrics import TextCounts
from shared.errors import OrchestratorRestarted

FINAL = ("done", "failed", "cancelled")
_FINAL_SQL = "('done', 'failed', 'cancelled')"


@dataclass
class Evaluation:
    id: str
    status: str
    backends: list[str]
    normalization: dict[str, bool]
    options: dict[str, Any]
    error: dict[str, Any] | None
    created_at: float
    finished_at: float | None
    tenant: str | None
    documents: list[dict[str, Any]]

    @property
    def final(self) -> bool:
        return self.status in FINAL


def _scored(row: Any) -> Scored:
    data = json.loads(row["score"])
    return Scored(
        document=row["document"],
        kind=data["kind"],
        backend=row["backend"],
        counts=TextCounts(*data["counts"]) if data.get("counts") else None,
        pages=data["pages"],
        seconds=data["seconds"],
        error=data.get("error"),
        cached=data.get("cached", False),
    )


class EvaluationStore:
    def __init__(self, database: Database, ttl: float) -> None:
        self.database = database
        self.ttl = ttl

    def create(
        self,
        backends: list[str],
        normalization: dict[str, bool],
        options: dict[str, Any],
        documents: list[tuple[str, str, int, str]],
        tenant: str | None,
    ) -> str:
        """A queued evaluation of ``documents`` (name, kind, pages, reference)."""
        self.database.require_writable()
        evaluation_id = uuid.uuid4().hex
        now = time.time()
        size = sum(len(reference) for *_, reference in documents)
        with self.database.transaction() as connection:
            connection.execute(
                "INSERT INTO evaluations (id, status, backends, normalization, options, owner_pid, created_at, "
                "updated_at, tenant, size) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    evaluation_id,
                    json.dumps(backends),
                    json.dumps(normalization),
                    json.dumps(options),
                    os.getpid(),
                    now,
                    now,
                    tenant,
                    size,
                ),
            )
            connection.executemany(
                "INSERT INTO evaluation_documents (evaluation_id, position, name, kind, pages, reference) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(evaluation_id, n, *document) for n, document in enumerate(documents)],
            )
            self._event(connection, evaluation_id, "status", {"status": "queued"})
        self.database.wrote(size)
        return evaluation_id

    def get(self, evaluation_id: str) -> Evaluation | None:
        with self.database.read() as connection:
            row = connection.execute("SELECT * FROM evaluations WHERE id = ?", (evaluation_id,)).fetchone()
            if row is None or (row["expires_at"] is not None and row["expires_at"] < time.time()):
                return None
            documents = [
                {"name": d["name"], "kind": d["kind"], "pages": d["pages"]}
                for d in connection.execute(
                    "SELECT name, kind, pages FROM evaluation_documents WHERE evaluation_id = ? ORDER BY position",
                    (evaluation_id,),
                )
            ]
        return Evaluation(
            id=row["id"],
            status=row["status"],
            backends=json.loads(row["backends"]),
            normalization=json.loads(row["normalization"]),
            options=json.loads(row["options"]),
            error=json.loads(row["error"]) if row["error"] else None,
            created_at=row["created_at"],
            finished_at=row["finished_at"],
            tenant=row["tenant"],
            documents=documents,
        )

    def listed(self, tenant: str | None, limit: int = 100) -> list[Evaluation]:
        """The tenant's evaluations, newest first."""
        with self.database.read() as connection:
            ids = [
                row["id"]
                for row in connection.execute(
                    "SELECT id FROM evaluations WHERE tenant IS ? AND (expires_at IS NULL OR expires_at >= ?) "
                    "ORDER BY created_at DESC LIMIT ?",
                    (tenant, time.time(), limit),
                )
            ]
        return [found for found in map(self.get, ids) if found is not None]

    def status(self, evaluation_id: str) -> str | None:
        with self.database.read() as connection:
            row = connection.execute("SELECT status FROM evaluations WHERE id = ?", (evaluation_id,)).fetchone()
        return None if row is None else str(row["status"])

    def set_status(self, evaluation_id: str, status: str, *, error: dict[str, Any] | None = None) -> bool:
        """Move it on; ``False`` (and no change) when it is final already."""
        now = time.time()
        final = status in FINAL
        with self.database.transaction() as connection:
            changed = connection.execute(
                "UPDATE evaluations SET status = ?, error = ?, updated_at = ?, finished_at = ?, expires_at = ? "
                f"WHERE id = ? AND status NOT IN {_FINAL_SQL}",
                (
                    status,
                    json.dumps(error) if error else None,
                    now,
                    now if final else None,
                    now + self.ttl if final else None,
                    evaluation_id,
                ),
            ).rowcount
            if changed:
                self._event(
                    connection, evaluation_id, "status", {"status": status, **({"error": error} if error else {})}
                )
        return bool(changed)

    def add_result(self, evaluation_id: str, scored: Scored, markdown: str | None, pages: list[Any] | None) -> bool:
        """Record one document × backend and its progress event, unless the evaluation is final."""
        score = {
            "kind": scored.kind,
            "counts": list(scored.counts.as_tuple()) if scored.counts else None,
            "pages": scored.pages,
            "seconds": scored.seconds,
            "error": scored.error,
            "cached": scored.cached,
        }
        body = json.dumps(pages) if pages is not None else None
        size = len(markdown or "") + len(body or "")
        with self.database.transaction() as connection:
            row = connection.execute("SELECT status FROM evaluations WHERE id = ?", (evaluation_id,)).fetchone()
            if row is None or row["status"] in FINAL:
                return False
            seq = connection.execute(
                "SELECT COUNT(*) FROM evaluation_results WHERE evaluation_id = ?", (evaluation_id,)
            ).fetchone()[0]
            connection.execute(
                "INSERT OR REPLACE INTO evaluation_results (evaluation_id, document, backend, seq, score, markdown, "
                "pages) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (evaluation_id, scored.document, scored.backend, seq, json.dumps(score), markdown, body),
            )
            connection.execute("UPDATE evaluations SET size = size + ? WHERE id = ?", (size, evaluation_id))
            self._event(connection, evaluation_id, "result", scored.to_json())
            self._event(
                connection,
                evaluation_id,
                "progress",
                {"backend": scored.backend, **self._progress(connection, evaluation_id, scored.backend)},
            )
        self.database.wrote(size)
        return True

    @staticmethod
    def _progress(connection: Any, evaluation_id: str, backend: str) -> dict[str, int]:
        total = connection.execute(
            "SELECT COUNT(*) FROM evaluation_documents WHERE evaluation_id = ?", (evaluation_id,)
        ).fetchone()[0]
        done, failed = connection.execute(
            "SELECT COUNT(*), COALESCE(SUM(json_extract(score, '$.error') IS NOT NULL), 0) FROM evaluation_results "
            "WHERE evaluation_id = ? AND backend = ?",
            (evaluation_id, backend),
        ).fetchone()
        return {"done": int(done), "total": int(total), "failed": int(failed)}

    def progress(self, evaluation: Evaluation) -> dict[str, dict[str, int]]:
        with self.database.read() as connection:
            return {name: self._progress(connection, evaluation.id, name) for name in evaluation.backends}

    def results(self, evaluation_id: str) -> list[Scored]:
        """Every result so far, in the order they finished."""
        with self.database.read() as connection:
            rows = connection.execute(
                "SELECT document, backend, score FROM evaluation_results WHERE evaluation_id = ? ORDER BY seq",
                (evaluation_id,),
            ).fetchall()
        return [_scored(row) for row in rows]

    def document(self, evaluation_id: str, name: str) -> dict[str, Any] | None:
        """One document's reference and each backend's stored result (markdown, pages, score)."""
        with self.database.read() as connection:
            row = connection.execute(
                "SELECT name, kind, pages, reference FROM evaluation_documents WHERE evaluation_id = ? AND name = ?",
                (evaluation_id, name),
            ).fetchone()
            if row is None:
                return None
            results = connection.execute(
                "SELECT document, backend, score, markdown, pages FROM evaluation_results "
                "WHERE evaluation_id = ? AND document = ? ORDER BY seq",
                (evaluation_id, name),
            ).fetchall()
        return {
            "name": row["name"],
            "kind": row["kind"],
            "pages": row["pages"],
            "reference": row["reference"],
            "results": {
                result["backend"]: (
                    _scored(result),
                    result["markdown"],
                    json.loads(result["pages"]) if result["pages"] else [],
                )
                for result in results
            },
        }

    def add_event(self, evaluation_id: str, kind: str, data: dict[str, Any]) -> None:
        with self.database.transaction() as connection:
            self._event(connection, evaluation_id, kind, data)

    @staticmethod
    def _event(connection: Any, evaluation_id: str, kind: str, data: dict[str, Any]) -> None:
        connection.execute(
            "INSERT INTO evaluation_events (evaluation_id, type, data) VALUES (?, ?, ?)",
            (evaluation_id, kind, json.dumps(data)),
        )

    def events_after(self, evaluation_id: str, seq: int) -> list[tuple[int, str, str]]:
        with self.database.read() as connection:
            rows = connection.execute(
                "SELECT seq, type, data FROM evaluation_events WHERE evaluation_id = ? AND seq > ? ORDER BY seq",
                (evaluation_id, seq),
            ).fetchall()
        return [(row["seq"], row["type"], row["data"]) for row in rows]

    def fail_orphans(self) -> int:
        """Evaluations left queued or running by a process that is gone: failed, saying why (the
        results finished before stay)."""
        orphans = self.database.orphaned("evaluations")
        for evaluation_id in orphans:
            restarted = OrchestratorRestarted(
                "the orchestrator process running this evaluation stopped (restart or crash) before it finished; "
                "the results it had finished are kept"
            )
            self.set_status(evaluation_id, "failed", error=restarted.to_json())
        return len(orphans)

    def enforce_quota(self, max_bytes: int) -> int:
        """Finished evaluations, oldest first, expire while evaluations hold more than ``max_bytes``
        (the jobs' bound, counted apart: the truths, markdown and pages stored)."""
        return self.database.enforce_quota("evaluations", FINAL, max_bytes)

    def delete_expired(self, batch: int = PURGE_BATCH) -> int:
        """Delete expired evaluations (invisible already), ``batch`` rows per transaction; how many."""
        children = ("evaluation_results", "evaluation_events", "evaluation_documents")
        return self.database.delete_expired("evaluations", children, "evaluation_id", batch)
