"""The orchestrator's SQLite state is bounded and heals: pages stored once, the job quota (oldest
finished first), the cache bound and WAL kept by the maintenance loop, a damaged file moved aside
(once, whichever worker finds it), a deleted file noticed and made again, private files, and a cache
that skips and counts what it cannot write."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import time

import pytest

from orchestrator.database import Database
from orchestrator.job_store import JobStore
from orchestrator.maintenance import Maintenance
from orchestrator.result_cache import ResultCache
from shared.errors import StateUnavailable
from shared.metrics import CACHE_FAILURES

MARKER = "a-line-only-page-seven-has"


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def finished_job(store: JobStore, pages: int, page_bytes: int) -> str:
    job_id = store.create("ocr", ["x"], "a.pdf", {})
    store.set_total(job_id, "x", pages)
    store.set_status(job_id, "running")
    for number in range(1, pages + 1):
        store.add_page(job_id, "x", {"page": number, "markdown": "m" * page_bytes})
    store.set_status(job_id, "succeeded", result={"success": True})
    return job_id


def test_each_page_is_stored_once_and_streamed_as_before(tmp_path):
    database = Database(tmp_path / "db.sqlite3")
    store = JobStore(database, ttl=60)
    job_id = store.create("ocr", ["x"], "a.pdf", {})
    page = {"page": 7, "markdown": MARKER, "blocks": [{"text": MARKER}]}
    store.add_page(job_id, "x", page)
    store.set_status(job_id, "succeeded", result={"success": True, "markdown": "whole"})
    with database.read() as connection:
        dump = "\n".join(connection.iterdump())
    # Twice in the one job_pages row (markdown and block), nowhere else: not in events, not in the result.
    assert dump.count(MARKER) == 2
    (page_event,) = [data for _, kind, data in store.events_after(job_id, 0) if kind == "page"]
    assert page_event == json.dumps({"backend": "x", "page": page})  # the wire text of before
    assert store.pages(job_id) == {"x": [page]}


def test_job_quota_drops_the_oldest_finished_jobs_first(tmp_path):
    database = Database(tmp_path / "db.sqlite3")
    store = JobStore(database, ttl=3600)
    oldest, middle, newest = (finished_job(store, 2, 1000) for _ in range(3))
    running = store.create("ocr", ["x"], None, {})
    store.add_page(running, "x", {"page": 1, "markdown": "r" * 5000})
    maintenance = Maintenance(
        database, store, ResultCache(database, 0, 60), interval=1, jobs_max_bytes=0, min_free_bytes=0
    )
    total = store.total_bytes()
    maintenance.jobs_max_bytes = total - 1000  # one finished job too many
    maintenance.run_once()
    assert store.get(oldest) is None
    assert store.get(middle) is not None and store.get(newest) is not None and store.get(running) is not None
    with database.read() as connection:
        assert connection.execute("SELECT COUNT(*) FROM job_pages WHERE job_id = ?", (oldest,)).fetchone()[0] == 0
        assert connection.execute("SELECT COUNT(*) FROM job_events WHERE job_id = ?", (oldest,)).fetchone()[0] == 0
    maintenance.jobs_max_bytes = 1  # only the running job may stay: it is never cut short
    maintenance.run_once()
    assert store.get(middle) is None and store.get(newest) is None
    assert store.get(running).status == "queued" and store.total_bytes() > 1


def test_maintenance_bounds_the_cache_and_gives_space_back(tmp_path):
    database = Database(tmp_path / "db.sqlite3")
    cache = ResultCache(database, max_bytes=64 * 2**20, ttl=60)
    maintenance = Maintenance(
        database, JobStore(database, 60), cache, interval=1, jobs_max_bytes=2**30, min_free_bytes=0
    )
    for number in range(40):
        cache.put(f"k{number}", "x", os.urandom(256 * 1024))  # 10 MiB
    maintenance.run_once()
    full = database.size_bytes()
    assert full > 10 * 2**20 and os.path.getsize(tmp_path / "db.sqlite3-wal") < 64 * 1024  # WAL cut back
    cache.max_bytes = 2**20
    maintenance.run_once()
    assert cache.stats()["bytes"] <= 2**20 and cache.get("k39") is not None  # the most recent kept
    with database.read() as connection:
        assert connection.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
        assert connection.execute("PRAGMA freelist_count").fetchone()[0] == 0
    assert database.size_bytes() < 2 * 2**20 < full


def test_files_are_private(tmp_path):
    data = tmp_path / "data"
    database = Database(data / "db.sqlite3")
    JobStore(database, 60).create("ocr", ["x"], None, {})
    assert mode(data) == 0o700
    for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "db.sqlite3.lock"):
        assert mode(data / name) == 0o600, name


def test_an_older_files_mode_is_tightened(tmp_path):
    path = tmp_path / "db.sqlite3"
    Database(path)
    path.chmod(0o644)
    Database(path)
    assert mode(path) == 0o600


def test_a_file_that_is_not_a_database_is_moved_aside(tmp_path):
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"not sqlite at all " * 500)
    store = JobStore(Database(path), 60)
    assert store.get(store.create("ocr", ["x"], None, {})) is not None
    (aside,) = tmp_path.glob("db.sqlite3.corrupt-*")
    assert aside.read_bytes().startswith(b"not sqlite at all")


def test_an_overwritten_stretch_is_found_and_moved_aside(tmp_path, caplog):
    path = tmp_path / "db.sqlite3"
    database = Database(path)
    store = JobStore(database, 60)
    for _ in range(30):
        finished_job(store, 3, 3000)
    database.checkpoint()
    size = path.stat().st_size
    with open(path, "r+b") as file:
        file.seek(size // 2)
        file.write(os.urandom(80_000))
    fresh = JobStore(Database(path), 60)
    assert fresh.counts_by_status() == {}
    assert list(tmp_path.glob("db.sqlite3.corrupt-*"))
    assert any("DAMAGED" in record.message and record.levelname == "ERROR" for record in caplog.records)


def _open_and_tell(path, start, answers) -> None:
    start.wait()
    database = Database(path)
    JobStore(database, 60).create("ocr", ["x"], None, {})
    answers.put(database._identity)


def test_workers_opening_a_damaged_file_at_once_move_it_aside_once(tmp_path):
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"garbage" * 4000)
    context = multiprocessing.get_context("fork")
    start, answers = context.Event(), context.Queue()
    workers = [context.Process(target=_open_and_tell, args=(path, start, answers)) for _ in range(4)]
    for worker in workers:
        worker.start()
    start.set()
    identities = {answers.get(timeout=30) for _ in workers}
    for worker in workers:
        worker.join(10)
    assert len(list(tmp_path.glob("db.sqlite3.corrupt-*"))) == 1
    assert identities == {(os.stat(path).st_dev, os.stat(path).st_ino)}  # all on the one new file


def test_a_deleted_file_is_noticed_and_every_worker_moves_to_the_new_one(tmp_path):
    path = tmp_path / "db.sqlite3"
    first, second = Database(path), Database(path)  # two workers
    JobStore(first, 60).create("ocr", ["x"], None, {})
    path.unlink()  # its -wal and -shm stay behind
    assert first.reopen_if_replaced()  # what the maintenance loop does each round
    assert second.reopen_if_replaced()
    assert first._identity == second._identity == (os.stat(path).st_dev, os.stat(path).st_ino)
    job_id = JobStore(first, 60).create("ocr", ["x"], None, {})
    assert JobStore(second, 60).get(job_id) is not None  # no split brain
    assert list(tmp_path.glob("db.sqlite3.deleted-*-wal"))  # the old WAL did not join the new file
    assert not first.reopen_if_replaced()


def test_an_unopenable_database_is_state_unavailable_not_a_crash(tmp_path):
    path = tmp_path / "db.sqlite3"
    path.mkdir()  # a directory where the file should be
    database = Database(path)
    assert database.problem and "cannot open" in database.problem
    store = JobStore(database, 60)
    with pytest.raises(StateUnavailable) as refused:
        store.create("ocr", ["x"], None, {})
    assert refused.value.status == 503 and refused.value.code == "state_unavailable"
    cache = ResultCache(database, 2**20, 60)
    cache.put("k", "x", b"body")
    assert cache.get("k") is None


def test_a_full_database_skips_and_counts_cache_writes(tmp_path):
    database = Database(tmp_path / "db.sqlite3")
    cache = ResultCache(database, max_bytes=2**30, ttl=60, touch_every=0)
    cache.put("small", "x", b"1")
    connect = database._connect

    def full_disk():  # SQLite's own "database or disk is full" (SQLITE_FULL), as on a full disk
        connection = connect()
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count={pages}")
        return connection

    database._connect = full_disk  # type: ignore[method-assign]
    database._idle.clear()
    before = {op: CACHE_FAILURES.labels(op)._value.get() for op in ("write", "touch")}
    cache.put("big", "x", os.urandom(2**20))  # no exception
    assert CACHE_FAILURES.labels("write")._value.get() == before["write"] + 1
    assert cache.get("big") is None and cache.get("small") is not None  # reads still work
    assert database.probe(0) is None  # one row still fits


def test_probe_reports_a_low_disk_and_recovers(tmp_path):
    database = Database(tmp_path / "db.sqlite3")
    store = JobStore(database, 60)
    problem = database.probe(min_free_bytes=2**62)
    assert problem and "free on the data disk" in problem
    with pytest.raises(StateUnavailable):
        store.create("ocr", ["x"], None, {})
    assert database.probe(min_free_bytes=0) is None
    assert store.create("ocr", ["x"], None, {})


def test_expired_jobs_go_in_small_steps(tmp_path):
    database = Database(tmp_path / "db.sqlite3")
    store = JobStore(database, ttl=0.1)
    job_id = finished_job(store, 200, 10)
    time.sleep(0.2)
    assert store.get(job_id) is None  # invisible at once
    assert store.delete_expired(batch=16) == 1
    with database.read() as connection:
        assert connection.execute("SELECT COUNT(*) FROM job_pages").fetchone()[0] == 0
        assert connection.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 0
