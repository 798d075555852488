"""Telemetry on this machine: one row per LLM call, in a SQLite file every process of
the user shares, beside the task runs (``start_run``) this machine made.

The tables and the reads are those of every SQL store (``queries``). What is SQLite's:

- Triggers keep the rollups in the same transaction as every insert, whoever
  inserts (see ``_ROLLUP_TRIGGERS`` for why not once per batch).
- WAL journal with ``synchronous=NORMAL``: readers never block the writer and a commit
  does not wait for fsync. A process crash loses nothing that was committed; a power
  cut or OS crash can lose the last few commits (never corrupts the file). That is
  the right trade for telemetry, and what makes >= 2,000 single inserts/s possible.
- ``busy_timeout`` lets concurrent writers queue instead of failing; writes take the
  lock up front (``BEGIN IMMEDIATE``) so two writers never deadlock upgrading a read.
- One connection per thread (and per process: a forked child opens its own).
- The schema version is SQLite's ``user_version``; an older file is migrated in
  place when a writable store opens it, a newer one is refused.

Retention: rows older than ``retention_days`` (default 30; None keeps everything) are
deleted when the store opens and then at most once an hour by the process writing.
``prune(older_than_days)`` does it on demand. The cut-off is rounded down to the UTC
day so the rollups and the rows always agree; a row may live up to a day past its age.

Every query takes a time window (``since``, default the last 7 days; ``until``, default
none) and a ``limit`` (at most ``MAX_QUERY_LIMIT``). "Recent" means newest first.

``read_only=True`` (displays such as ``attune routing stats``): the file is opened with
``mode=ro`` and never created, migrated or pruned; while it does not exist every query
answers empty, and writes raise ``TelemetryStoreError``. An older file is read through
temporary views that give it the current shape.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune.models._internal.safe_read import check_regular_if_exists
from attune.models._internal.sqlite_tx import immediate_transaction
from attune.models.errors import FileReadError
from attune.models.telemetry.queries import (
    CALL_COLUMNS,
    DEFAULT_RETENTION_DAYS,
    KEY_SQL,
    MAX_QUERY_LIMIT,
    RollupQueries,
    Snapshot,
    call_row,
    check_limit,
    nothing,
    retention_cutoff_ms,
)
from attune.models.telemetry.records import (
    MAX_TOKENS,
    LLMCallRecord,
    TelemetryStoreError,
    from_epoch_ms,
    to_epoch_ms,
    utc_now,
)
from attune.models.telemetry.runs import RUN_STATUSES, STAGE_STATUSES, RunRecord, RunStageRecord

if TYPE_CHECKING:
    from attune.models.pricing.pipeline import TaskEstimate

logger = logging.getLogger(__name__)

__all__ = ["MAX_QUERY_LIMIT", "SCHEMA_VERSION", "TelemetryStore", "get_telemetry_store"]

# 1: llm_calls and its hourly rollup; 2: + runs, run_stages, llm_calls.run_id;
# 3: + llm_calls.user_name and .machine, the daily rollup, run_stages.stop_reason; one index on llm_calls
SCHEMA_VERSION = 3
BUSY_TIMEOUT_MS = 10_000
CACHE_KIB = 32_768  # index pages of a busy store stay in memory: inserts with many keys read fewer pages

_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_calls (
    id            INTEGER PRIMARY KEY,
    ts_ms         INTEGER NOT NULL,
    workflow      TEXT    NOT NULL,
    stage         TEXT    NOT NULL,
    task_type     TEXT    NOT NULL,
    provider      TEXT    NOT NULL,
    tier          TEXT    NOT NULL,
    model_id      TEXT    NOT NULL,
    success       INTEGER NOT NULL,
    error_type    TEXT,
    latency_ms    REAL    NOT NULL,
    tokens_input  INTEGER NOT NULL,
    tokens_output INTEGER NOT NULL,
    cost          REAL    NOT NULL,
    run_id        TEXT,                         -- the task run the call belongs to (schema 2)
    user_name     TEXT    NOT NULL DEFAULT '',  -- who made the call (schema 3)
    machine       TEXT    NOT NULL DEFAULT ''   -- and where
);
CREATE INDEX IF NOT EXISTS llm_calls_workflow_stage_model_ts
    ON llm_calls (workflow, stage, model_id, ts_ms);

CREATE TABLE IF NOT EXISTS llm_calls_hourly (
    workflow          TEXT    NOT NULL,
    stage             TEXT    NOT NULL,
    bucket_ms         INTEGER NOT NULL,  -- start of the UTC hour
    model_id          TEXT    NOT NULL,
    provider          TEXT    NOT NULL,
    tier              TEXT    NOT NULL,
    calls             INTEGER NOT NULL,
    successes         INTEGER NOT NULL,
    latency_ms_sum    REAL    NOT NULL,
    cost_sum          REAL    NOT NULL,
    tokens_input_sum  INTEGER NOT NULL,
    tokens_output_sum INTEGER NOT NULL,
    PRIMARY KEY (workflow, stage, bucket_ms, model_id, provider, tier)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS llm_calls_hourly_bucket ON llm_calls_hourly (bucket_ms);

CREATE TABLE IF NOT EXISTS llm_calls_daily (
    day_ms            INTEGER NOT NULL,  -- start of the UTC day
    user_name         TEXT    NOT NULL,
    workflow          TEXT    NOT NULL,
    task_type         TEXT    NOT NULL,
    model_id          TEXT    NOT NULL,
    calls             INTEGER NOT NULL,
    successes         INTEGER NOT NULL,
    cost_sum          REAL    NOT NULL,
    tokens_input_sum  INTEGER NOT NULL,
    tokens_output_sum INTEGER NOT NULL,
    PRIMARY KEY (day_ms, user_name, workflow, task_type, model_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS runs (
    run_id             TEXT    PRIMARY KEY,
    task               TEXT    NOT NULL,
    path               TEXT    NOT NULL,
    lines              INTEGER,
    mode               TEXT    NOT NULL,
    reason             TEXT    NOT NULL,
    status             TEXT    NOT NULL,  -- running | ok | failed | cancelled
    error_type         TEXT,
    started_ms         INTEGER NOT NULL,
    finished_ms        INTEGER,
    tokens             INTEGER NOT NULL,  -- the module's tokens the estimate used
    estimated_cost     REAL    NOT NULL,  -- dollars charged (0 on a subscription)
    estimated_api_cost REAL    NOT NULL   -- API-equivalent dollars
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_ms);
CREATE INDEX IF NOT EXISTS runs_path_started ON runs (path, started_ms);
CREATE INDEX IF NOT EXISTS runs_task_started ON runs (task, started_ms);

CREATE TABLE IF NOT EXISTS run_stages (
    run_id                  TEXT    NOT NULL REFERENCES runs (run_id),
    stage_index             INTEGER NOT NULL,
    stage                   TEXT    NOT NULL,
    model                   TEXT    NOT NULL,
    status                  TEXT    NOT NULL,  -- pending | ok | failed | cancelled
    estimated_input_tokens  INTEGER,
    estimated_output_tokens INTEGER,
    estimated_cost          REAL,
    estimated_api_cost      REAL,
    input_tokens            INTEGER,
    output_tokens           INTEGER,
    cache_tokens            INTEGER,
    cost                    REAL,
    api_equivalent_cost     REAL,
    elapsed_ms              REAL,
    stop_reason             TEXT,  -- why the reply ended, as the API says (schema 3); "max_tokens": cut
    PRIMARY KEY (run_id, stage_index)
) WITHOUT ROWID;
"""

_INSERT = f"INSERT INTO llm_calls ({CALL_COLUMNS}) VALUES ({', '.join('?' * len(CALL_COLUMNS.split(',')))})"

# the rollups follow every insert, whoever inserts, in the same transaction. Measured
# against updating them once per batch with INSERT ... SELECT ... GROUP BY: the
# triggers were faster (29k against 24k calls/s, batches of 1,000, 1,050 keys),
# because the batch update reads the new rows again and sorts them.
_ROLLUP_TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS llm_calls_rollup AFTER INSERT ON llm_calls BEGIN
    INSERT INTO llm_calls_hourly VALUES (
        NEW.workflow, NEW.stage, NEW.ts_ms - (NEW.ts_ms % 3600000),
        NEW.model_id, NEW.provider, NEW.tier,
        1, NEW.success, NEW.latency_ms, NEW.cost, NEW.tokens_input, NEW.tokens_output)
    ON CONFLICT DO UPDATE SET
        calls = calls + 1,
        successes = successes + excluded.successes,
        latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum,
        cost_sum = cost_sum + excluded.cost_sum,
        tokens_input_sum = tokens_input_sum + excluded.tokens_input_sum,
        tokens_output_sum = tokens_output_sum + excluded.tokens_output_sum;
END;
CREATE TRIGGER IF NOT EXISTS llm_calls_rollup_daily AFTER INSERT ON llm_calls BEGIN
    INSERT INTO llm_calls_daily VALUES (
        NEW.ts_ms - (NEW.ts_ms % 86400000), NEW.user_name, NEW.workflow, NEW.task_type, NEW.model_id,
        1, NEW.success, NEW.cost, NEW.tokens_input, NEW.tokens_output)
    ON CONFLICT DO UPDATE SET
        calls = calls + 1,
        successes = successes + excluded.successes,
        cost_sum = cost_sum + excluded.cost_sum,
        tokens_input_sum = tokens_input_sum + excluded.tokens_input_sum,
        tokens_output_sum = tokens_output_sum + excluded.tokens_output_sum;
END;
"""
_FILL_DAILY = """
INSERT INTO llm_calls_daily
SELECT ts_ms - (ts_ms % 86400000), user_name, workflow, task_type, model_id,
       COUNT(*), SUM(success), SUM(cost), SUM(tokens_input), SUM(tokens_output)
FROM llm_calls GROUP BY 1, 2, 3, 4, 5
"""

# an older file, read by a read-only store, through views of the current shape (temp
# names are found before the file's own)
_OLDER_VIEWS = {
    1: ("CREATE TEMP VIEW llm_calls AS SELECT *, NULL AS run_id, '' AS user_name, '' AS machine FROM main.llm_calls",),
    2: (
        "CREATE TEMP VIEW llm_calls AS SELECT *, '' AS user_name, '' AS machine FROM main.llm_calls",
        "CREATE TEMP VIEW run_stages AS SELECT *, NULL AS stop_reason FROM main.run_stages",
    ),
}
_OLDER_DAILY_VIEW = (
    "CREATE TEMP VIEW llm_calls_daily AS SELECT ts_ms - (ts_ms % 86400000) AS day_ms, user_name, workflow, "
    "task_type, model_id, COUNT(*) AS calls, SUM(success) AS successes, SUM(cost) AS cost_sum, "
    "SUM(tokens_input) AS tokens_input_sum, SUM(tokens_output) AS tokens_output_sum FROM llm_calls "
    "GROUP BY 1, 2, 3, 4, 5"
)

_RUN_COLUMNS = (
    "run_id, task, path, lines, mode, reason, status, error_type, started_ms, finished_ms, tokens, "
    "estimated_cost, estimated_api_cost"
)
# in RunStageRecord's field order
_STAGE_COLUMNS = (
    "stage_index, stage, model, status, estimated_input_tokens, estimated_output_tokens, estimated_cost, "
    "estimated_api_cost, input_tokens, output_tokens, cache_tokens, cost, api_equivalent_cost, elapsed_ms, stop_reason"
)


def _statements(script: str) -> list[str]:
    """The SQL statements of ``script`` (a trigger's body stays whole)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s]


class TelemetryStore(RollupQueries):
    """LLM call records and task runs in a SQLite file shared by every process (see
    the module doc)."""

    _prune_postponed_by = (sqlite3.OperationalError,)  # busy past the timeout

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        retention_days: float | None = DEFAULT_RETENTION_DAYS,
        read_only: bool = False,
    ) -> None:
        if retention_days is not None and (not math.isfinite(retention_days) or retention_days <= 0):
            raise ValueError(f"retention_days must be > 0 or None, got {retention_days!r}")
        self.path = Path(path)
        self.retention_days = retention_days
        self.read_only = read_only
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        self._version = SCHEMA_VERSION  # a read-only store learns the file's on its first query
        if read_only:
            return  # opened on the first query; nothing is created, migrated or pruned
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._init_schema()
        self._maybe_prune()

    # --- connections -------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            check_regular_if_exists(self.path)  # SQLite's open of a FIFO would block
            if self.read_only:
                conn = sqlite3.connect(
                    self.path.absolute().as_uri() + "?mode=ro",
                    uri=True,
                    timeout=BUSY_TIMEOUT_MS / 1000,
                    isolation_level=None,
                    check_same_thread=False,
                )
            else:
                conn = sqlite3.connect(
                    self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
                )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not self.read_only:
                conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
                conn.execute("PRAGMA synchronous = NORMAL")
        except FileReadError as exc:
            raise TelemetryStoreError(f"{self.path}: cannot open the telemetry database ({exc.problem})") from None
        except sqlite3.Error as exc:
            raise TelemetryStoreError(f"{self.path}: cannot open the telemetry database ({exc})") from None
        return conn

    def _thread_conn(self) -> sqlite3.Connection | None:
        if self._closed:
            raise TelemetryStoreError(f"{self.path}: the telemetry store is closed")
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # new thread, or a forked child
            return None
        conn: sqlite3.Connection = local.conn
        return conn

    def _keep(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        self._local.conn, self._local.pid = conn, os.getpid()
        with self._lock:
            self._connections.append(conn)
        return conn

    @property
    def _conn(self) -> sqlite3.Connection:
        """This thread's connection, for writes (and the queries of a writable store)."""
        if self.read_only:
            raise TelemetryStoreError(f"{self.path}: the telemetry store is open read-only")
        return self._thread_conn() or self._keep(self._connect())

    def _reader(self) -> sqlite3.Connection | None:
        """A connection for queries; None while a read-only store has nothing to read
        (no file, or no tables yet). Asked again on the next query."""
        if not self.read_only:
            return self._conn
        conn = self._thread_conn()
        if conn is not None:
            if self._version < SCHEMA_VERSION:  # a writer may have migrated the file since
                self._version = conn.execute("PRAGMA user_version").fetchone()[0]
                if self._version >= SCHEMA_VERSION:  # the file has the current shape now
                    for view in ("llm_calls", "llm_calls_daily", "run_stages"):
                        conn.execute(f"DROP VIEW IF EXISTS temp.{view}")
            return conn
        if not self.path.exists():
            return None
        conn = self._connect()
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise self._unusable(exc) from None
        if version > SCHEMA_VERSION:
            conn.close()
            raise self._newer_schema(version)
        if version < 1:  # created by another process, schema not yet written
            conn.close()
            return None
        # an older schema is read through views of the current shape (a read-only
        # store never migrates); it has no runs before version 2
        for statement in (*_OLDER_VIEWS.get(version, ()), _OLDER_DAILY_VIEW if version < 3 else ""):
            if statement:
                conn.execute(statement)
        self._version = version
        return self._keep(conn)

    @contextlib.contextmanager
    def _read(self) -> Iterator[Snapshot | None]:
        conn = self._reader()
        if conn is None:
            with nothing() as empty:
                yield empty
            return
        conn.execute("BEGIN")  # one snapshot for every part of a query
        try:
            yield _SqliteSnapshot(conn)
        finally:
            conn.execute("COMMIT")

    def _snapshot(self) -> contextlib.AbstractContextManager[Snapshot | None]:
        return self._read()

    @property
    def closed(self) -> bool:
        return self._closed

    def _newer_schema(self, version: int) -> TelemetryStoreError:
        return TelemetryStoreError(
            f"{self.path}: telemetry schema version {version} is newer than this "
            f"attune understands ({SCHEMA_VERSION}); upgrade attune"
        )

    def _unusable(self, exc: sqlite3.DatabaseError) -> TelemetryStoreError:
        return TelemetryStoreError(
            f"{self.path}: not a usable telemetry database ({exc}); move it aside and a new one will be created"
        )

    def close(self) -> None:
        """Close every connection this store opened (in this process)."""
        with self._lock:
            self._closed = True
            conns, self._connections = self._connections, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    def __enter__(self) -> TelemetryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _init_schema(self) -> None:
        conn = self._conn
        try:
            # journal_mode is a property of the file; setting it needs no other writer
            conn.execute("PRAGMA journal_mode = WAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise self._newer_schema(version)
            if version < SCHEMA_VERSION:
                with immediate_transaction(conn):
                    # read again under the write lock: another process may have migrated it
                    version = conn.execute("PRAGMA user_version").fetchone()[0]
                    if version > SCHEMA_VERSION:
                        raise self._newer_schema(version)
                    if version < SCHEMA_VERSION:
                        self._migrate(conn, version)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise self._unusable(exc) from None
        except TelemetryStoreError:
            self.close()
            raise

    @staticmethod
    def _migrate(conn: sqlite3.Connection, version: int) -> None:
        """Bring the file from ``version`` to SCHEMA_VERSION inside the caller's
        transaction; the calls already stored keep every value.

        1 -> 2 adds ``llm_calls.run_id`` (NULL for old calls) and the runs tables.
        2 -> 3 adds ``user_name`` and ``machine`` ('' for old calls) and the daily
        rollup, filled from the calls already stored, drops the two indexes the reads
        no longer use (``queries``), and adds ``run_stages.stop_reason`` (NULL: not
        known)."""
        columns = {row[1] for row in conn.execute("PRAGMA table_info(llm_calls)")}
        stage_columns = {row[1] for row in conn.execute("PRAGMA table_info(run_stages)")}
        for statement in _statements(_SCHEMA):  # IF NOT EXISTS: only what is missing
            conn.execute(statement)
        for column, kind in (
            ("run_id", "TEXT"),
            ("user_name", "TEXT NOT NULL DEFAULT ''"),
            ("machine", "TEXT NOT NULL DEFAULT ''"),
        ):
            if columns and column not in columns:  # a table an older schema created
                conn.execute(f"ALTER TABLE llm_calls ADD COLUMN {column} {kind}")
        if stage_columns and "stop_reason" not in stage_columns:
            conn.execute("ALTER TABLE run_stages ADD COLUMN stop_reason TEXT")
        if 0 < version < 3:
            conn.execute(_FILL_DAILY)
            conn.execute("DROP INDEX IF EXISTS llm_calls_workflow_stage_ts")
            conn.execute("DROP INDEX IF EXISTS llm_calls_model_ts")
        for statement in _statements(_ROLLUP_TRIGGERS):  # after the columns they read
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # --- writes ------------------------------------------------------------------

    def record_call(self, record: LLMCallRecord) -> None:
        """Store one call (its own transaction)."""
        self._insert([call_row(record)])

    def record_calls(self, records: Iterable[LLMCallRecord]) -> int:
        """Store many calls in one transaction: all of them or, on error, none."""
        return self._insert([call_row(r) for r in records])

    def _insert(self, rows: Sequence[Sequence[Any]]) -> int:
        """The calls and their rollups, in one transaction."""
        if not rows:
            return 0
        conn = self._conn
        with immediate_transaction(conn):
            conn.executemany(_INSERT, rows)
        self._maybe_prune()
        return len(rows)

    # --- retention ---------------------------------------------------------------

    def prune(self, older_than_days: float) -> int:
        """Delete calls older than ``older_than_days`` (cut-off rounded down to the
        UTC day) and their rollups; returns how many calls went."""
        cutoff_ms = retention_cutoff_ms(older_than_days)
        conn = self._conn
        with immediate_transaction(conn):
            deleted = 0
            for key in self._keys(_SqliteSnapshot(conn), None, cutoff_ms):  # index ranges, not a scan
                deleted += conn.execute(
                    f"DELETE FROM llm_calls WHERE {KEY_SQL} AND ts_ms < ?", (*key, cutoff_ms)
                ).rowcount
            conn.execute("DELETE FROM llm_calls_hourly WHERE bucket_ms < ?", (cutoff_ms,))
            conn.execute("DELETE FROM llm_calls_daily WHERE day_ms < ?", (cutoff_ms,))
        if deleted:
            logger.debug("telemetry: pruned %d calls older than %s", deleted, from_epoch_ms(cutoff_ms))
        return deleted

    # --- runs --------------------------------------------------------------------

    def start_run(
        self,
        task: str,
        path: str,
        lines: int | None,
        mode: str,
        reason: str,
        estimate: TaskEstimate,
    ) -> str:
        """Record a run starting now (status "running") with its estimate, one
        pending stage per estimated stage; returns its id (uuid4 hex)."""
        for name, text in (("task", task), ("path", path), ("mode", mode)):
            if not isinstance(text, str) or not text:
                raise ValueError(f"start_run: {name} must be a non-empty string, got {text!r}")
        if not isinstance(reason, str):
            raise ValueError(f"start_run: reason must be a string, got {reason!r}")
        if lines is not None and (isinstance(lines, bool) or not isinstance(lines, int) or lines < 0):
            raise ValueError(f"start_run: lines must be a non-negative integer or None, got {lines!r}")
        run_id = uuid.uuid4().hex
        conn = self._conn
        with immediate_transaction(conn):
            conn.execute(
                "INSERT INTO runs (run_id, task, path, lines, mode, reason, status, error_type, started_ms, "
                "finished_ms, tokens, estimated_cost, estimated_api_cost) "
                "VALUES (?, ?, ?, ?, ?, ?, 'running', NULL, ?, NULL, ?, ?, ?)",
                (
                    run_id,
                    task,
                    path,
                    lines,
                    mode,
                    reason,
                    to_epoch_ms(utc_now()),
                    int(estimate.tokens),
                    float(estimate.total_cost),
                    float(estimate.api_cost),
                ),
            )
            conn.executemany(
                "INSERT INTO run_stages (run_id, stage_index, stage, model, status, estimated_input_tokens, "
                "estimated_output_tokens, estimated_cost, estimated_api_cost) "
                "VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
                [
                    (run_id, index, s.stage, s.model, s.input_tokens, s.output_tokens, s.cost, s.api_cost)
                    for index, s in enumerate(estimate.stages)
                ],
            )
        return run_id

    def record_stage(
        self,
        run_id: str,
        index: int,
        stage: str,
        model: str,
        *,
        input_tokens: int,
        output_tokens: int,
        cache_tokens: int = 0,
        cost: float,
        api_equivalent_cost: float,
        elapsed_ms: float,
        status: str,
        stop_reason: str | None = None,
    ) -> None:
        """What stage ``index`` of the run used (recording it again replaces it).
        ``cost`` is the dollars charged (0 on a subscription), ``api_equivalent_cost``
        what the tokens cost on the API; ``status`` is ok, failed or cancelled;
        ``stop_reason`` why the reply ended, when the API said ("max_tokens": it was
        cut at the limit). KeyError for a run id the store does not have."""
        if status not in STAGE_STATUSES or status == "pending":
            raise ValueError(f"record_stage: status must be ok, failed or cancelled, got {status!r}")
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValueError(f"record_stage: index must be a non-negative integer, got {index!r}")
        for name, count in (
            ("input_tokens", input_tokens),
            ("output_tokens", output_tokens),
            ("cache_tokens", cache_tokens),
        ):
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_TOKENS:
                raise ValueError(f"record_stage: {name} must be an integer from 0 to {MAX_TOKENS:,}, got {count!r}")
        for name, number in (("cost", cost), ("api_equivalent_cost", api_equivalent_cost), ("elapsed_ms", elapsed_ms)):
            if (
                isinstance(number, bool)
                or not isinstance(number, (int, float))
                or not math.isfinite(number)
                or number < 0
            ):
                raise ValueError(f"record_stage: {name} must be a finite number >= 0, got {number!r}")
        conn = self._conn
        with immediate_transaction(conn):
            if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None:
                raise KeyError(f"no run {run_id!r} in {self.path}")
            conn.execute(
                "INSERT INTO run_stages (run_id, stage_index, stage, model, status, input_tokens, output_tokens, "
                "cache_tokens, cost, api_equivalent_cost, elapsed_ms, stop_reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (run_id, stage_index) DO UPDATE SET stage = excluded.stage, model = excluded.model, "
                "status = excluded.status, input_tokens = excluded.input_tokens, "
                "output_tokens = excluded.output_tokens, cache_tokens = excluded.cache_tokens, "
                "cost = excluded.cost, api_equivalent_cost = excluded.api_equivalent_cost, "
                "elapsed_ms = excluded.elapsed_ms, stop_reason = excluded.stop_reason",
                (
                    run_id,
                    index,
                    stage,
                    model,
                    status,
                    input_tokens,
                    output_tokens,
                    cache_tokens,
                    float(cost),
                    float(api_equivalent_cost),
                    float(elapsed_ms),
                    stop_reason,
                ),
            )

    def finish_run(self, run_id: str, status: str, error_type: str | None = None) -> None:
        """Mark the run ok, failed or cancelled, finished now. KeyError for an unknown id."""
        if status not in RUN_STATUSES or status == "running":
            raise ValueError(f"finish_run: status must be ok, failed or cancelled, got {status!r}")
        conn = self._conn
        with immediate_transaction(conn):
            updated = conn.execute(
                "UPDATE runs SET status = ?, error_type = ?, finished_ms = ? WHERE run_id = ?",
                (status, error_type, to_epoch_ms(utc_now()), run_id),
            ).rowcount
            if not updated:
                raise KeyError(f"no run {run_id!r} in {self.path}")

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run with this id (an unambiguous prefix of at least 4 characters will
        do), or None."""
        conn = self._reader()
        if conn is None or self._version < 2:
            return None
        rows = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)).fetchall()
        if not rows and len(run_id) >= 4 and all(c in "0123456789abcdef" for c in run_id):
            rows = conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id >= ? AND run_id < ? LIMIT 2",
                (run_id, run_id + "g"),
            ).fetchall()
        if len(rows) != 1:
            return None
        return self._runs(conn, rows)[0]

    def list_runs(self, *, path: str | None = None, task: str | None = None, limit: int = 100) -> list[RunRecord]:
        """The newest runs first, optionally of one file and/or one task."""
        check_limit(limit)
        conn = self._reader()
        if conn is None or self._version < 2:
            return []
        where, params = [], []
        for column, value in (("path", path), ("task", task)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        rows = conn.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs {clause}ORDER BY started_ms DESC, rowid DESC LIMIT ?", (*params, limit)
        ).fetchall()
        return self._runs(conn, rows)

    @staticmethod
    def _runs(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> list[RunRecord]:
        stages: dict[str, list[RunStageRecord]] = {row[0]: [] for row in rows}
        ids = list(stages)
        for start in range(0, len(ids), 500):  # SQLite's bound-variable limit
            chunk = ids[start : start + 500]
            for stage_row in conn.execute(
                f"SELECT run_id, {_STAGE_COLUMNS} FROM run_stages WHERE run_id IN ({', '.join('?' * len(chunk))}) "
                "ORDER BY run_id, stage_index",
                chunk,
            ):
                stages[stage_row[0]].append(RunStageRecord(*stage_row[1:]))
        return [
            RunRecord(
                run_id=run_id,
                task=task,
                path=path,
                lines=lines,
                mode=mode,
                reason=reason,
                status=status,
                error_type=error_type,
                started_at=from_epoch_ms(started_ms),
                finished_at=None if finished_ms is None else from_epoch_ms(finished_ms),
                tokens=tokens,
                estimated_cost=estimated_cost,
                estimated_api_cost=estimated_api_cost,
                stages=tuple(stages[run_id]),
            )
            for (
                run_id,
                task,
                path,
                lines,
                mode,
                reason,
                status,
                error_type,
                started_ms,
                finished_ms,
                tokens,
                estimated_cost,
                estimated_api_cost,
            ) in rows
        ]


class _SqliteSnapshot:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()


_stores: dict[tuple[Path, bool], TelemetryStore] = {}
_stores_lock = threading.Lock()


def get_telemetry_store(*, read_only: bool = False) -> TelemetryStore:
    """The store this process shares, at ``paths.telemetry_db_path()`` (ATTUNE_HOME
    honoured; one instance per resolved path). ``read_only=True`` for displays: no
    file or folder is created (no file: no calls)."""
    from attune.models._internal import paths

    path = paths.telemetry_db_path().expanduser().resolve()
    with _stores_lock:
        store = _stores.get((path, read_only))
        if store is None or store._closed:
            store = TelemetryStore(path, read_only=read_only)
            _stores[(path, read_only)] = store
        return store
