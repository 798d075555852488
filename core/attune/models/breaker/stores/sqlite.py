"""The SQLite breaker store: one file shared by every process of the user on the machine.

- WAL mode: readers never wait for the writer, so ``is_available`` on a CLOSED key is
  one indexed SELECT.
- Every read-modify-write runs in ``BEGIN IMMEDIATE``: the write lock is taken before
  the row is read, so exactly ``half_open_calls`` processes get a probe permit.
- ``PRAGMA synchronous=NORMAL``: in WAL mode a commit is written to the WAL without an
  fsync (the fsync happens at checkpoints). A crashed *process* loses nothing (the
  write is in the OS page cache); only a power loss or kernel crash can roll back the
  last few commits, which for breaker state (minutes of relevance) is harmless. It
  keeps ``record_*`` well under a millisecond.
- One connection per thread (``threading.local``), reopened after a fork.
- A ``breaker_meta`` row ``version`` is bumped in every write transaction:
  ``change_token()`` is one SELECT that changes whenever any process changes state.
- A file that is not a database is moved aside (``breaker.db.corrupt-<UTC time>``,
  never over an earlier one) and a fresh one created: breaker state is disposable, and
  refusing to start would take down every LLM call. A path that is not a regular file
  (a FIFO, a device) is refused before SQLite opens it: opening a FIFO would block.
- ``read_only=True`` (status displays): the file is opened with ``mode=ro``, never
  created, migrated or moved aside; a missing file reads as no state, and every write
  raises ``BreakerStoreUnavailable``.
- A locked file answers quickly: the busy timeout is 0.25 s; the schema is created under
  the write lock only when it is missing (a new process reads ``sqlite_master`` first),
  and reads never take the write lock. After a failure (locked past the busy timeout,
  disk full, unreadable) the store raises ``BreakerStoreUnavailable`` at once for
  ``retry_interval`` seconds (5 s) without touching the file, so at most one call per
  interval waits; the first call after it checks that the write lock can be had again
  before the store counts as back. ``CircuitBreaker`` turns that into its degraded mode.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from attune.models._internal.safe_read import check_regular_if_exists
from attune.models._internal.set_aside import set_aside
from attune.models._internal.sqlite_tx import immediate_transaction
from attune.models.breaker.rules import CircuitBreakerState
from attune.models.breaker.stores.base import BreakerStoreUnavailable, Rule, T, TransactionalStore
from attune.models.errors import FileReadError

logger = logging.getLogger(__name__)


SCHEMA_VERSION = 1
BUSY_TIMEOUT_SECONDS = 0.25  # a call waits at most this for another process's lock
RETRY_INTERVAL_SECONDS = 5.0  # after a failure, the file is left alone this long
_COLUMNS = (
    "key",
    "failure_count",
    "opened_at",
    "retry_at",
    "last_failure",
    "last_error_type",
    "probes_granted",
    "probe_window_start",
)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM breaker_state"
_UPSERT = (
    f"INSERT INTO breaker_state ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT(key) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
)
_BUMP = "UPDATE breaker_meta SET value = value + 1 WHERE name = 'version'"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS breaker_state (
    key                TEXT PRIMARY KEY,
    failure_count      INTEGER NOT NULL DEFAULT 0,
    opened_at          REAL,
    retry_at           REAL,
    last_failure       REAL,
    last_error_type    TEXT,
    probes_granted     INTEGER NOT NULL DEFAULT 0,
    probe_window_start REAL
);
CREATE TABLE IF NOT EXISTS breaker_meta (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO breaker_meta (name, value) VALUES ('version', 0);
"""


class _Connection(sqlite3.Connection):
    """A subclass only so the store can hold connections weakly: a thread's connection
    is closed when the thread ends, and ``close()`` can still reach the live ones."""


def _row_to_state(row: tuple[Any, ...]) -> CircuitBreakerState:
    return CircuitBreakerState(*row)


def _state_to_row(s: CircuitBreakerState) -> tuple[Any, ...]:
    return (
        s.key,
        s.failure_count,
        s.opened_at,
        s.retry_at,
        s.last_failure,
        s.last_error_type,
        s.probes_granted,
        s.probe_window_start,
    )


class SQLiteBreakerStore(TransactionalStore):
    def __init__(
        self,
        path: str | os.PathLike[str],
        busy_timeout_seconds: float = BUSY_TIMEOUT_SECONDS,
        *,
        read_only: bool = False,
        retry_interval: float = RETRY_INTERVAL_SECONDS,
    ) -> None:
        self.path = Path(path).absolute()  # a later chdir does not move the store
        self.url = f"sqlite:///{self.path}"  # SQLAlchemy's form of an absolute path: sqlite:////abs/path.db
        self.read_only = read_only
        self._busy_timeout = busy_timeout_seconds
        self._local = threading.local()
        self._all_conns: weakref.WeakSet[sqlite3.Connection] = weakref.WeakSet()
        self._conns_lock = threading.Lock()
        self._schema_ready = False
        self.retry_interval = retry_interval
        # Process-local back-off after a failure (monotonic: it is about this process's waiting).
        self._down_until = 0.0
        self._down_error = ""
        self._check_write_lock = False

    # --- connections

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        check_regular_if_exists(self.path)
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False, factory=_Connection
        )
        try:
            self._prepare(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_read_only(self) -> sqlite3.Connection | None:
        """None while there is no breaker state to read: no file, or no table yet."""
        if not self.path.exists():
            return None
        check_regular_if_exists(self.path)
        conn = sqlite3.connect(
            self.path.as_uri() + "?mode=ro",
            uri=True,
            timeout=self._busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            factory=_Connection,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            table = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'breaker_state'")
            if table.fetchone() is None:
                conn.close()
                return None
        except BaseException:
            conn.close()
            raise
        return conn

    def _connect(self) -> sqlite3.Connection | None:
        try:
            if self.read_only:
                conn = self._open_read_only()
                if conn is None:
                    return None
            else:
                try:
                    conn = self._open()
                except sqlite3.DatabaseError as exc:
                    if not _is_corruption(exc):
                        raise
                    self._move_aside(exc)
                    conn = self._open()
        except FileReadError as exc:
            raise BreakerStoreUnavailable(f"cannot open {exc}") from exc
        except (OSError, sqlite3.Error) as exc:
            raise BreakerStoreUnavailable(f"cannot open {self.path}: {exc}") from exc
        with self._conns_lock:
            self._all_conns.add(conn)
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]  # a read: no lock needed in WAL
        if str(mode).lower() != "wal":
            mode = self._switch_to_wal(conn)
        if str(mode).lower() != "wal":
            logger.warning("breaker store %s: journal_mode is %s, not wal", self.path, mode)
        conn.execute("PRAGMA synchronous = NORMAL")
        if not self._schema_ready:
            # Only a missing schema is created, under the write lock: a process holding
            # that lock does not stall every new process's first call.
            if not _has_schema(conn):
                with immediate_transaction(conn):
                    self._create_schema(conn)
            self._schema_ready = True

    def _switch_to_wal(self, conn: sqlite3.Connection) -> Any:
        # Switching needs a moment of exclusive access; a process racing us to create the
        # file can make it fail with "locked" at once, busy timeout or not: retry until
        # the busy timeout is spent.
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                return conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    @staticmethod
    def _create_schema(conn: sqlite3.Connection) -> None:
        # executescript would COMMIT our IMMEDIATE transaction first; run statements one by one.
        for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _move_aside(self, exc: Exception) -> None:
        try:
            target = set_aside(self.path, companions=("-wal", "-shm"))
        except FileNotFoundError:
            return  # another process moved it first
        except OSError as move_exc:
            raise BreakerStoreUnavailable(
                f"{self.path} is not a usable database ({exc}) and could not be moved aside: {move_exc}"
            ) from exc
        logger.warning(
            "breaker store %s was not a usable database (%s); kept it as %s and started a fresh one",
            self.path,
            exc,
            target,
        )

    def _reader(self) -> sqlite3.Connection | None:
        """This thread's connection; None when a read-only store has nothing to read yet
        (asked again on the next call, so a file created meanwhile is seen)."""
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid():  # a forked child must not reuse it
            conn = self._connect()
            if conn is not None:
                local.conn, local.pid = conn, os.getpid()
        return conn

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection, for writes."""
        conn = self._reader()
        assert conn is not None  # a writable store creates its file
        return conn

    @contextmanager
    def _errors(self, write: bool = False) -> Iterator[None]:
        """Runs one operation: raises ``BreakerStoreUnavailable`` at once while backing
        off, and for any failure of the operation (then backs off)."""
        if write and self.read_only:
            raise BreakerStoreUnavailable(f"{self.path} is open read-only")
        if time.monotonic() < self._down_until:
            raise BreakerStoreUnavailable(self._down_error)
        try:
            if self._check_write_lock and not self.read_only:
                # Back only when a write can get through: a file that answers reads while
                # another process holds its write lock would otherwise flap up and down.
                conn = self._conn()
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
            self._check_write_lock = False
            yield
        except sqlite3.DatabaseError as exc:
            error = f"{self.path}: {exc}"
            self._back_off(error)
            raise BreakerStoreUnavailable(error) from exc
        except BreakerStoreUnavailable as exc:
            self._back_off(str(exc))
            raise

    def _back_off(self, error: str) -> None:
        self._down_error = error
        self._check_write_lock = True
        self._down_until = time.monotonic() + self.retry_interval

    # --- TransactionalStore

    def transact(self, key: str, rule: Rule[T]) -> T:
        with self._errors(write=True):
            conn = self._conn()
            with immediate_transaction(conn):
                row = conn.execute(_SELECT + " WHERE key = ?", (key,)).fetchone()
                result, new = rule(_row_to_state(row) if row else None)
                if new is not None:
                    conn.execute(_UPSERT, _state_to_row(new))
                    conn.execute(_BUMP)
            return result

    def get(self, key: str) -> CircuitBreakerState | None:
        with self._errors():
            conn = self._reader()
            row = None if conn is None else conn.execute(_SELECT + " WHERE key = ?", (key,)).fetchone()
        return _row_to_state(row) if row else None

    def get_all(self) -> dict[str, CircuitBreakerState]:
        with self._errors():
            conn = self._reader()
            rows = [] if conn is None else conn.execute(_SELECT + " ORDER BY key").fetchall()
        return {row[0]: _row_to_state(row) for row in rows}

    def reset(self, key: str | None = None, include_tiers: bool = False) -> list[str]:
        params: tuple[Any, ...]
        if key is None:
            where, params = "", ()
        elif include_tiers:
            # substr, not LIKE: keys may contain '_' or '%'.
            where, params = " WHERE key = ? OR substr(key, 1, ?) = ?", (key, len(key) + 1, key + ":")
        else:
            where, params = " WHERE key = ?", (key,)
        with self._errors(write=True):
            conn = self._conn()
            with immediate_transaction(conn):
                gone = [r[0] for r in conn.execute("SELECT key FROM breaker_state" + where, params)]
                if gone:
                    conn.execute("DELETE FROM breaker_state" + where, params)
                    conn.execute(_BUMP)
        return sorted(gone)

    def change_token(self) -> int:
        with self._errors():
            conn = self._reader()
            row = (
                None
                if conn is None
                else conn.execute("SELECT value FROM breaker_meta WHERE name = 'version'").fetchone()
            )
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._conns_lock:
            conns, self._all_conns = list(self._all_conns), weakref.WeakSet()
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "file is encrypted" in text


def _has_schema(conn: sqlite3.Connection) -> bool:
    """Both tables are there and the schema's version is set: two reads, no lock."""
    tables = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('breaker_state', 'breaker_meta')"
    ).fetchone()[0]
    return bool(tables == 2 and conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION)
