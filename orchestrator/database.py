"""The orchestrator's SQLite database (jobs, their pages and events, the result cache).

One file in the data directory, shared by every gunicorn worker: a job started in one worker can
be read, followed and cancelled through another. WAL mode lets readers run while a writer writes.

It holds cache and job state only, so it heals rather than fails: a file that is damaged at start
is moved aside (``<name>.corrupt-<time>``) and a new one made; one deleted while running is noticed
at the next use and made again (every worker then opens the one file at the path); when it cannot
be opened at all every use raises :class:`StateUnavailable` and the service goes on without it.
Creating, checking and reopening happen under an exclusive ``flock`` on ``<name>.lock`` beside it,
so workers starting together never both move a file aside or each make their own.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path

from shared.errors import StateUnavailable

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,               -- ocr | compare
    status TEXT NOT NULL,             -- queued | running | succeeded | failed | cancelled
    backends TEXT NOT NULL,           -- JSON list
    filename TEXT,
    options TEXT NOT NULL,            -- JSON object
    error TEXT,                       -- JSON object
    result TEXT,                      -- JSON object, without pages
    owner_pid INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    expires_at REAL,
    tenant TEXT,                      -- digest of the API key that made it; NULL without keys
    size INTEGER NOT NULL DEFAULT 0   -- bytes of its document, pages and result (the job quota counts these)
);
CREATE INDEX IF NOT EXISTS jobs_by_age ON jobs (created_at);
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
-- A page event's data is {"backend", "page": <number>}: the body is read from job_pages.
CREATE TABLE IF NOT EXISTS job_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS job_events_by_job ON job_events (job_id, seq);
-- Evaluations (#23): a labelled set through several backends; documents stay in memory, like jobs'.
CREATE TABLE IF NOT EXISTS evaluations (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,             -- queued | running | done | cancelled | failed
    backends TEXT NOT NULL,           -- JSON list
    normalization TEXT NOT NULL,      -- JSON object of flags
    options TEXT NOT NULL,            -- JSON object: the request's options as sent
    error TEXT,                       -- JSON object
    owner_pid INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    finished_at REAL,
    expires_at REAL,
    tenant TEXT,
    size INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS evaluations_by_age ON evaluations (created_at);
CREATE TABLE IF NOT EXISTS evaluation_documents (
    evaluation_id TEXT NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    pages INTEGER NOT NULL,
    reference TEXT NOT NULL,
    PRIMARY KEY (evaluation_id, name)
);
CREATE TABLE IF NOT EXISTS evaluation_results (
    evaluation_id TEXT NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    document TEXT NOT NULL,
    backend TEXT NOT NULL,
    seq INTEGER NOT NULL,
    score TEXT NOT NULL,              -- JSON: counts, pages, seconds, error
    markdown TEXT,
    pages TEXT,                       -- JSON list of the result's pages (without boxes images)
    PRIMARY KEY (evaluation_id, document, backend)
);
CREATE TABLE IF NOT EXISTS evaluation_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    evaluation_id TEXT NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS evaluation_events_by_id ON evaluation_events (evaluation_id, seq);
-- The document a job was made from (its page images are served from it); counted in jobs.size.
CREATE TABLE IF NOT EXISTS job_documents (
    job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    format TEXT NOT NULL,             -- png, jpeg, webp, tiff, bmp, pdf
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS result_cache (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    body BLOB NOT NULL,
    size INTEGER NOT NULL,
    stored_at REAL NOT NULL,
    used_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS result_cache_by_use ON result_cache (used_at);
-- The maintenance loop's write probe: one row, rewritten.
CREATE TABLE IF NOT EXISTS write_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL);
"""

#: Columns added after the first release: (table, column, definition, how to fill it in).
MIGRATIONS = (
    ("jobs", "tenant", "TEXT", None),
    (
        "jobs",
        "size",
        "INTEGER NOT NULL DEFAULT 0",
        "UPDATE jobs SET size = COALESCE(length(result), 0) "
        "+ (SELECT COALESCE(SUM(length(body)), 0) FROM job_pages WHERE job_pages.job_id = jobs.id)",
    ),
)
#: The WAL is cut back to this after a checkpoint resets it (SQLite otherwise keeps its largest size).
JOURNAL_SIZE_LIMIT = 16 * 2**20
BUSY_TIMEOUT_S = 5.0
#: Busy wait of the maintenance checkpoint: it skips a round rather than wait on busy writers.
CHECKPOINT_BUSY_MS = 200
SIDECARS = ("-wal", "-shm")
#: Errors that say the file itself is damaged (not busy, full or unreadable for a passing reason).
DAMAGED = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})
#: Seconds between attempts to open a database that could not be opened.
REOPEN_BACKOFF_S = 1.0
#: Bytes written after which the maintenance loop runs a round now instead of at its next interval.
WAKE_AFTER_BYTES = 32 * 2**20
#: While state cannot be written, how often a request for new state may probe again itself.
PROBE_ON_DEMAND_S = 0.25
IDLE_CONNECTIONS = 8
#: Bytes of a table's rows (jobs, evaluations) not gone yet.
_LIVE_BYTES = "SELECT COALESCE(SUM(size), 0) FROM {table} WHERE expires_at IS NULL OR expires_at >= ?"


def between_steps() -> None:
    """Let others in: other threads, and under gevent (which patches ``time.sleep``) the other
    greenlets of this worker, which no SQLite call ever yields to."""
    time.sleep(0)


def state_failure(exc: BaseException) -> bool:
    """A failure of the database's state (disk full, locked, I/O error, damaged, gone), not a bug
    in a statement (``IntegrityError``, ``ProgrammingError``…)."""
    return type(exc) in (sqlite3.OperationalError, sqlite3.DatabaseError)


def _damaged(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorname", "") in DAMAGED or type(exc) is sqlite3.DatabaseError


def _aside(path: Path, kind: str) -> Path:
    """``<name>.<kind>-<UTC time>`` beside ``path``, with a number added if that name is taken."""
    base = f"{path.name}.{kind}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    names = (base, *(f"{base}.{n}" for n in range(1, 1000)))
    return next(
        path.with_name(name) for name in names if not any(path.with_name(name + s).exists() for s in ("", *SIDECARS))
    )


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file is at ``path`` (device, inode); ``None`` when none is."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``<path>.lock``, shared by every process that opens ``path``."""
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


class Database:
    def __init__(self, path: Path, *, check: bool = True) -> None:
        """``check``: run ``PRAGMA quick_check`` on an existing file first (at start)."""
        self.path = path
        self._uri = path.absolute().as_uri() + "?mode=rw"  # a connection never creates the file
        self._lock = threading.Lock()
        self._reopening = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        #: Connections to a file no longer at the path (deleted, moved aside). Never closed: SQLite's
        #: close of the last one would delete ``<path>-wal``/``-shm`` by name, now the new file's.
        self._retired: list[sqlite3.Connection] = []
        self._generation = 0
        self._identity: tuple[int, int] | None = None
        self._failed_at = 0.0
        #: Why state cannot be written now (set by the maintenance probe); ``None``: it can.
        self.problem: str | None = None
        self._min_free_bytes: int | None = None  # the probe's bound, kept for a probe on demand
        self._probed_at = 0.0
        #: Set once :data:`WAKE_AFTER_BYTES` were written since the last maintenance round.
        self.grown = threading.Event()
        self._written = 0
        try:
            self._open(check=check)
        except (OSError, sqlite3.Error) as exc:
            self._open_failed(exc)

    # -- opening -------------------------------------------------------------------------------------

    def _open(self, *, check: bool) -> None:
        self._make_dir()
        with _locked(self.path):
            if self.path.exists():
                if check:
                    self._check()
            else:
                self._clear_sidecars()
            try:
                self._prepare()
            except sqlite3.DatabaseError as exc:
                if not _damaged(exc):
                    raise
                self._move_aside(f"{type(exc).__name__}: {exc}")
                self._prepare()
            for name in (self.path, *(self.path.with_name(self.path.name + s) for s in SIDECARS)):
                if name.exists():
                    name.chmod(0o600)  # a file made by an older version was 0644
            identity = _identity(self.path)
        with self._lock:
            self._retired.extend(self._idle)
            self._idle = []
            self._generation += 1
            self._identity = identity
        self._failed_at = 0.0

    def _make_dir(self) -> None:
        directory = self.path.parent
        if not directory.exists():
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        elif directory.stat().st_mode & 0o077:
            log.warning("the data directory %s is readable by other users (chmod 700 it)", directory)

    def _check(self) -> None:
        """Move the file aside when SQLite says it is damaged."""
        try:
            with closing(sqlite3.connect(self._uri, uri=True, timeout=BUSY_TIMEOUT_S)) as connection:
                rows = [str(row[0]) for row in connection.execute("PRAGMA quick_check(5)")]
        except sqlite3.DatabaseError as exc:
            if not _damaged(exc):
                raise
            rows = [f"{type(exc).__name__}: {exc}"]
        if rows != ["ok"]:
            self._move_aside("; ".join(rows))

    def _move_aside(self, reason: str) -> None:
        aside = _aside(self.path, "corrupt")
        for suffix in ("", *SIDECARS):
            source = self.path.with_name(self.path.name + suffix)
            if source.exists():
                source.rename(aside.with_name(aside.name + suffix))
        log.error(
            "THE DATABASE %s IS DAMAGED (%s): moved aside to %s; starting with an empty one "
            "(cached results and jobs are lost)",
            self.path,
            reason,
            aside,
        )

    def _clear_sidecars(self) -> None:
        """A ``-wal``/``-shm`` without its file (deleted while running) must not join a new file."""
        aside = _aside(self.path, "deleted")
        for suffix in SIDECARS:
            stale = self.path.with_name(self.path.name + suffix)
            if stale.exists():
                stale.rename(aside.with_name(aside.name + suffix))

    def _prepare(self) -> None:
        """Make the file if there is none, and its tables (and the columns added since)."""
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # -wal, -shm: its mode
            log.info("made a new database at %s", self.path)
        with closing(self._connect()) as connection:
            if not connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
                # Only before the first table: an existing file would need a full VACUUM.
                connection.execute("PRAGMA auto_vacuum=INCREMENTAL")
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)  # its own transaction; IF NOT EXISTS lets workers race
            for table, column, definition, fill in MIGRATIONS:
                columns = {row["name"] for row in connection.execute(f"PRAGMA table_info({table})")}
                if column not in columns:
                    connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
                    if fill:
                        connection.execute(fill)
            # After the migrations: an older file has the tenant column only now.
            connection.execute("CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobs (tenant, created_at)")

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
        return connection

    def _open_failed(self, exc: BaseException) -> None:
        self._failed_at = time.monotonic()
        self.problem = f"cannot open {self.path.name}: {type(exc).__name__}: {exc}"
        log.error("the database %s cannot be opened (%s); running without it until it can", self.path, exc)

    def reopen_if_replaced(self) -> bool:
        """Open the file at the path again when it is not the one our connections use (deleted,
        moved aside by another worker, never opened). ``True`` when it did."""
        identity = _identity(self.path)
        if identity is not None and identity == self._identity:
            return False
        with self._reopening:  # one reopen per process at a time; the flock orders the processes
            if self._identity is not None and self._identity == _identity(self.path):
                return False  # another thread of ours reopened it meanwhile
            if time.monotonic() - self._failed_at < REOPEN_BACKOFF_S:
                raise StateUnavailable(f"the job and cache database is unavailable ({self.problem})")
            if self._identity is not None:
                how = "deleted" if identity is None else "replaced"
                log.warning("the database %s was %s: opening the file now at that path", self.path, how)
            try:
                self._open(check=False)
            except (OSError, sqlite3.Error) as exc:
                self._open_failed(exc)
                raise StateUnavailable(f"the job and cache database is unavailable ({self.problem})") from exc
        return True

    # -- using ---------------------------------------------------------------------------------------

    @contextmanager
    def _borrowed(self) -> Iterator[sqlite3.Connection]:
        self.reopen_if_replaced()
        with self._lock:
            generation = self._generation
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            try:
                connection = self._connect()
            except sqlite3.Error as exc:
                raise StateUnavailable(f"the job and cache database is unavailable ({exc})") from exc
        try:
            yield connection
        except BaseException:
            if connection.in_transaction:
                try:
                    connection.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            self._give_back(connection, generation)
            raise
        self._give_back(connection, generation)

    def _give_back(self, connection: sqlite3.Connection, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                self._retired.append(connection)
                return
            if len(self._idle) < IDLE_CONNECTIONS and not connection.in_transaction:
                self._idle.append(connection)
                return
        connection.close()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads (each statement its own transaction); a state failure is
        :class:`StateUnavailable`."""
        try:
            with self._borrowed() as connection:
                yield connection
        except sqlite3.Error as exc:
            if not state_failure(exc):
                raise
            raise StateUnavailable(f"the job and cache database failed: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error): writers queue, never interleave.
        Keep it short: it holds the file's one write lock."""
        with self.read() as connection:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            connection.execute("COMMIT")

    def wrote(self, size: int) -> None:
        """Note ``size`` bytes stored: a burst wakes the maintenance loop early (the bounds hold)."""
        self._written += size
        if self._written >= WAKE_AFTER_BYTES:
            self._written = 0
            self.grown.set()

    def require_writable(self) -> None:
        """Refuse new state (a job) while it cannot be written. While the last probe said so, a
        request probes again (at most every :data:`PROBE_ON_DEMAND_S`): a job sent as soon as space
        is freed is taken at once, not after this worker's next maintenance round."""
        if (
            self.problem is not None
            and self._min_free_bytes is not None
            and time.monotonic() - self._probed_at >= PROBE_ON_DEMAND_S
        ):
            self.probe(self._min_free_bytes)
        if self.problem is not None:
            raise StateUnavailable(f"the job database cannot be written now: {self.problem}")

    # -- maintenance (orchestrator.maintenance calls these, off the request path) ---------------------

    def probe(self, min_free_bytes: int) -> str | None:
        """Can state be written? Free space on the file's disk and one small write; sets and
        returns :attr:`problem`."""
        self._min_free_bytes, self._probed_at = min_free_bytes, time.monotonic()
        problem = None
        try:
            self.reopen_if_replaced()
            disk = os.statvfs(self.path.parent)
            free = disk.f_bavail * disk.f_frsize
            if free < min_free_bytes:
                problem = (
                    f"{free // 2**20} MiB free on the data disk, under DATA_MIN_FREE_BYTES ({min_free_bytes} bytes)"
                )
            else:
                with self.transaction() as connection:
                    connection.execute("INSERT OR REPLACE INTO write_probe (id, at) VALUES (1, ?)", (time.time(),))
        except (StateUnavailable, OSError) as exc:
            problem = str(exc)
        if problem and problem != self.problem:
            log.error("job and cache state cannot be written: %s", problem)
        elif self.problem and not problem:
            log.info("job and cache state can be written again")
        self.problem = problem
        return problem

    def checkpoint(self) -> None:
        """Copy the WAL into the file and truncate it; skipped (not waited for) while others write."""
        with self.read() as connection:
            connection.execute(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_MS}")
            try:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            finally:
                connection.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")

    def vacuum_step(self, pages: int) -> int:
        """Give back up to ``pages`` free pages to the file system (one short write); the free pages left."""
        with self.read() as connection:
            if connection.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
                return 0  # a file made before auto_vacuum=INCREMENTAL: its free pages are reused, not returned
            # executescript steps it to the end; execute() stops after the first page.
            connection.executescript(f"PRAGMA incremental_vacuum({int(pages)});")
            return int(connection.execute("PRAGMA freelist_count").fetchone()[0])

    def orphaned(self, table: str) -> list[str]:
        """Ids of ``table``'s rows left queued or running by a process that is gone (or by this one,
        at its start): they can never finish. Rows of other live workers are left alone."""
        with self.read() as connection:
            rows = connection.execute(
                f"SELECT id, owner_pid FROM {table} WHERE status IN ('queued', 'running')"
            ).fetchall()
        return [row["id"] for row in rows if row["owner_pid"] == os.getpid() or not pid_alive(row["owner_pid"])]

    def live_bytes(self, table: str) -> int:
        """Bytes of ``table``'s rows not gone yet (running ones have no expiry): what a quota counts."""
        with self.read() as connection:
            return int(connection.execute(_LIVE_BYTES.format(table=table), (time.time(),)).fetchone()[0])

    def enforce_quota(self, table: str, final: tuple[str, ...], max_bytes: int) -> int:
        """Rows of ``table`` in a ``final`` status, oldest first, expire now while the table's live
        rows hold more than ``max_bytes`` (unfinished ones are never cut short); how many did."""
        now = time.time()
        marks = ", ".join("?" for _ in final)
        with self.transaction() as connection:
            total = connection.execute(_LIVE_BYTES.format(table=table), (now,)).fetchone()[0]
            victims = []
            if total > max_bytes:
                for row in connection.execute(
                    f"SELECT id, size FROM {table} WHERE status IN ({marks}) AND expires_at >= ? ORDER BY created_at",
                    (*final, now),
                ):
                    if total <= max_bytes:
                        break
                    victims.append(row["id"])
                    total -= row["size"]
            connection.executemany(f"UPDATE {table} SET expires_at = 0 WHERE id = ?", [(v,) for v in victims])
        return len(victims)

    def delete_expired(self, table: str, children: tuple[str, ...], key: str, batch: int) -> int:
        """Delete the rows of ``table`` past their ``expires_at`` (invisible already) and their rows in
        ``children`` (joined on ``key``), ``batch`` rows per transaction: the write lock is never held
        long; how many went."""
        with self.read() as connection:
            expired = [
                row["id"]
                for row in connection.execute(
                    f"SELECT id FROM {table} WHERE expires_at IS NOT NULL AND expires_at < ?", (time.time(),)
                )
            ]
        for parent in expired:
            for child in children:
                while True:
                    with self.transaction() as connection:
                        done = connection.execute(
                            f"DELETE FROM {child} WHERE rowid IN (SELECT rowid FROM {child} WHERE {key} = ? LIMIT ?)",
                            (parent, batch),
                        ).rowcount
                    if done < batch:
                        break
                    between_steps()
            with self.transaction() as connection:
                connection.execute(f"DELETE FROM {table} WHERE id = ?", (parent,))  # cascades to the rest
        return len(expired)

    def size_bytes(self) -> int:
        """The file and its WAL, on disk."""
        total = 0
        for name in (self.path, self.path.with_name(self.path.name + "-wal")):
            with suppress(FileNotFoundError):
                total += os.stat(name).st_size
        return total


def pid_alive(pid: int) -> bool:
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
