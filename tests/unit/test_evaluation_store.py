"""The evaluation store's bounds: finished evaluations go oldest first over the quota (running ones
never), expired ones are deleted with their rows, and status only moves forward."""

import time

from orchestrator.database import Database
from orchestrator.evaluation_scores import Scored
from orchestrator.evaluation_store import EvaluationStore
from orchestrator.maintenance import Maintenance
from orchestrator.text_metrics import TextCounts


def store(tmp_path, ttl=60.0):
    return EvaluationStore(Database(tmp_path / "db.sqlite3"), ttl)


def finished(evaluations, reference="x" * 1000):
    evaluation_id = evaluations.create(["b"], {}, {}, [("doc", "k", 1, reference)], None)
    evaluations.set_status(evaluation_id, "running")
    evaluations.add_result(evaluation_id, Scored("doc", "k", "b", TextCounts.of("a", "a"), 1, 0.1), "a", [])
    evaluations.set_status(evaluation_id, "done")
    time.sleep(0.01)
    return evaluation_id


def test_over_the_quota_the_oldest_finished_go_first(tmp_path):
    evaluations = store(tmp_path)
    old, new = finished(evaluations), finished(evaluations)
    running = evaluations.create(["b"], {}, {}, [("doc", "k", 1, "y" * 5000)], None)
    assert evaluations.enforce_quota(7000) == 1
    assert evaluations.get(old) is None and evaluations.get(new) is not None
    assert evaluations.enforce_quota(0) == 1 and evaluations.get(running).status == "queued"


def test_expired_ones_are_deleted_with_their_rows(tmp_path):
    evaluations = store(tmp_path, ttl=0.01)
    gone = finished(evaluations)
    time.sleep(0.05)
    maintenance = Maintenance(
        evaluations.database,
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        interval=1,
        jobs_max_bytes=2**30,
        min_free_bytes=0,
        evaluations=evaluations,
    )
    for _, step in maintenance._evaluation_steps():
        step()
    assert evaluations.get(gone) is None
    with evaluations.database.read() as connection:
        for table in ("evaluations", "evaluation_results", "evaluation_events", "evaluation_documents"):
            assert connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table


def test_status_only_moves_forward_and_late_results_are_dropped(tmp_path):
    evaluations = store(tmp_path)
    evaluation_id = evaluations.create(["b"], {}, {}, [("doc", "k", 1, "x")], None)
    assert evaluations.set_status(evaluation_id, "cancelled")
    assert not evaluations.set_status(evaluation_id, "running")
    late = Scored("doc", "k", "b", TextCounts.of("x", "x"), 1, 0.1)
    assert not evaluations.add_result(evaluation_id, late, "x", [])
    assert evaluations.results(evaluation_id) == []
