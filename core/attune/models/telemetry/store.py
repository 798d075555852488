"""Telemetry: one row per LLM call, in a SQLite file every process of the user shares.

The router ranks models from these rows, so the store is built for two things: cheap
writes from many processes, and aggregate reads that stay fast at millions of rows.

Storage (``TelemetryStore``):

- ``llm_calls`` holds one row per call. Time is ``ts_ms``, integer milliseconds since
  the epoch (UTC): it indexes and compares exactly, unlike ISO strings with offsets.
  Indexes: (workflow, stage, ts_ms) for a stage's newest calls, (model_id, ts_ms) for a
  model's, (workflow, stage, model_id, ts_ms) for one model's newest calls in a stage.
- ``llm_calls_hourly`` is a rollup: per (workflow, stage, hour, model, provider, tier)
  the call count, successes and the sums of latency, cost and tokens. A trigger keeps
  it in the same transaction as every insert, whoever inserts. Aggregates over a
  window read whole hours from the rollup and only the partial hours at either edge
  from ``llm_calls``, so they cost the same at 10 thousand rows or 10 million.
- WAL journal with ``synchronous=NORMAL``: readers never block the writer and a commit
  does not wait for fsync. A process crash loses nothing that was committed; a power
  cut or OS crash can lose the last few commits (never corrupts the file). That is
  the right trade for telemetry, and what makes >= 2,000 single inserts/s possible.
- ``busy_timeout`` lets concurrent writers queue instead of failing; writes take the
  lock up front (``BEGIN IMMEDIATE``) so two writers never deadlock upgrading a read.
- One connection per thread (and per process: a forked child opens its own).

Retention: rows older than ``retention_days`` (default 30; None keeps everything) are
deleted when the store opens and then at most once an hour by the process writing.
``prune(older_than_days)`` does it on demand. The cut-off is rounded down to the hour
so the rollup and the rows always agree; a row may live up to an hour past its age.

Every query takes a time window (``since``, default the last 7 days; ``until``, default
none) and a ``limit`` (at most ``MAX_QUERY_LIMIT``). "Recent" means newest first.

``read_only=True`` (displays such as ``attune routing stats``): the file is opened with
``mode=ro`` and never created, migrated or pruned; while it does not exist every query
answers empty, and writes raise ``TelemetryStoreError``.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from attune.models._internal.safe_read import check_regular_if_exists
from attune.models._internal.sqlite_tx import immediate_transaction
from attune.models.errors import FileReadError
from attune.models.telemetry.records import (
    LLMCallRecord,
    ModelAggregate,
    TelemetryStoreError,
    from_epoch_ms,
    to_epoch_ms,
    utc_now,
)

logger = logging.getLogger(__name__)

# Running sums per (model_id, provider, tier): calls, successes, latency, cost, tokens in/out.
_Totals = dict[tuple[str, str, str], list[Any]]

SCHEMA_VERSION = 1
DEFAULT_RETENTION_DAYS = 30
DEFAULT_QUERY_DAYS = 7
MAX_QUERY_LIMIT = 10_000
BUSY_TIMEOUT_MS = 10_000
PRUNE_INTERVAL_SECONDS = 3600.0
HOUR_MS = 3_600_000

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
    cost          REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS llm_calls_workflow_stage_ts ON llm_calls (workflow, stage, ts_ms);
CREATE INDEX IF NOT EXISTS llm_calls_model_ts ON llm_calls (model_id, ts_ms);
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
"""

_INSERT = (
    "INSERT INTO llm_calls (ts_ms, workflow, stage, task_type, provider, tier, model_id, "
    "success, error_type, latency_ms, tokens_input, tokens_output, cost) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_COLUMNS = (
    "ts_ms, workflow, stage, task_type, provider, tier, model_id, success, "
    "error_type, latency_ms, tokens_input, tokens_output, cost"
)


def _row(record: LLMCallRecord) -> tuple[Any, ...]:
    return (
        to_epoch_ms(record.timestamp),
        record.workflow,
        record.stage,
        record.task_type,
        record.provider,
        record.tier,
        record.model_id,
        1 if record.success else 0,
        record.error_type,
        float(record.latency_ms),
        record.tokens_input,
        record.tokens_output,
        float(record.cost),
    )


def _record(row: Sequence[Any]) -> LLMCallRecord:
    (
        ts_ms,
        workflow,
        stage,
        task_type,
        provider,
        tier,
        model_id,
        success,
        error_type,
        latency_ms,
        tokens_input,
        tokens_output,
        cost,
    ) = row
    return LLMCallRecord.from_stored(  # checked when written: a clock set back since must not make it unreadable
        workflow=workflow,
        stage=stage,
        task_type=task_type,
        provider=provider,
        tier=tier,
        model_id=model_id,
        success=bool(success),
        error_type=error_type,
        latency_ms=latency_ms,
        tokens_input=tokens_input,
        tokens_output=tokens_output,
        cost=cost,
        timestamp=from_epoch_ms(ts_ms),
    )


def _check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_QUERY_LIMIT:
        raise ValueError(f"limit must be an integer from 1 to {MAX_QUERY_LIMIT}, got {limit!r}")
    return limit


def _window(since: datetime | None, until: datetime | None) -> tuple[int, int | None]:
    """(since_ms, until_ms or None); ``since`` defaults to DEFAULT_QUERY_DAYS ago."""
    if since is None:
        since = utc_now() - timedelta(days=DEFAULT_QUERY_DAYS)
    since_ms = to_epoch_ms(since)
    until_ms = None if until is None else to_epoch_ms(until)
    if until_ms is not None and until_ms < since_ms:
        raise ValueError(f"until ({until}) is before since ({since})")
    return since_ms, until_ms


def _ceil_hour(ms: int) -> int:
    return -(-ms // HOUR_MS) * HOUR_MS


def _floor_hour(ms: int) -> int:
    return ms - ms % HOUR_MS


class TelemetryStore:
    """LLM call records in a SQLite file shared by every process (see module doc)."""

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
        self._last_prune = 0.0
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
        if version < SCHEMA_VERSION:  # created by another process, schema not yet written
            conn.close()
            return None
        return self._keep(conn)

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
                # executescript commits any open transaction first, so the script
                # carries its own; IF NOT EXISTS makes racing first opens harmless
                try:
                    conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}PRAGMA user_version = {SCHEMA_VERSION};COMMIT;")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except sqlite3.DatabaseError as exc:
            self.close()
            raise self._unusable(exc) from None

    # --- writes ------------------------------------------------------------------

    def record_call(self, record: LLMCallRecord) -> None:
        """Store one call (its own transaction)."""
        row = _row(record)
        conn = self._conn
        with immediate_transaction(conn):
            conn.execute(_INSERT, row)
        self._maybe_prune()

    def record_calls(self, records: Iterable[LLMCallRecord]) -> int:
        """Store many calls in one transaction: all of them or, on error, none."""
        rows = [_row(r) for r in records]
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
        hour); returns how many rows went."""
        if not math.isfinite(older_than_days) or older_than_days < 0:
            raise ValueError(f"older_than_days must be >= 0, got {older_than_days!r}")
        now_ms = to_epoch_ms(utc_now())
        cutoff_ms = _floor_hour(now_ms - int(older_than_days * 86_400_000))
        conn = self._conn
        with immediate_transaction(conn):
            # the rollup names every (workflow, stage) with old rows, so each delete is
            # an index range on (workflow, stage, ts_ms) rather than a full-table scan
            pairs = conn.execute(
                "SELECT DISTINCT workflow, stage FROM llm_calls_hourly WHERE bucket_ms < ?",
                (cutoff_ms,),
            ).fetchall()
            deleted = 0
            for workflow, stage in pairs:
                deleted += conn.execute(
                    "DELETE FROM llm_calls WHERE workflow = ? AND stage = ? AND ts_ms < ?",
                    (workflow, stage, cutoff_ms),
                ).rowcount
            conn.execute("DELETE FROM llm_calls_hourly WHERE bucket_ms < ?", (cutoff_ms,))
        if deleted:
            logger.debug("telemetry: pruned %d calls older than %s", deleted, from_epoch_ms(cutoff_ms))
        return deleted

    def _maybe_prune(self) -> None:
        if self.retention_days is None:
            return
        now = time.monotonic()
        if self._last_prune and now - self._last_prune < PRUNE_INTERVAL_SECONDS:
            return
        self._last_prune = now
        try:
            self.prune(self.retention_days)
        except sqlite3.OperationalError as exc:  # busy past the timeout: try next interval
            logger.warning("telemetry: retention prune of %s skipped (%s)", self.path, exc)

    # --- reads -------------------------------------------------------------------

    def recent_calls(
        self,
        workflow: str | None = None,
        stage: str | None = None,
        *,
        model_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[LLMCallRecord]:
        """The newest calls first, matching the filters, within the window.

        Needs ``workflow`` or ``model_id`` (each query runs on an index); ``stage``
        needs ``workflow``."""
        _check_limit(limit)
        if workflow is None and model_id is None:
            raise ValueError("recent_calls needs a workflow or a model_id")
        if stage is not None and workflow is None:
            raise ValueError("recent_calls: stage needs a workflow")
        since_ms, until_ms = _window(since, until)
        where = ["ts_ms >= ?"]
        params: list[object] = [since_ms]
        if until_ms is not None:
            where.append("ts_ms < ?")
            params.append(until_ms)
        for column, value in (("workflow", workflow), ("stage", stage), ("model_id", model_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = f"SELECT {_COLUMNS} FROM llm_calls WHERE {' AND '.join(where)} ORDER BY ts_ms DESC, id DESC LIMIT ?"
        conn = self._reader()
        rows = [] if conn is None else conn.execute(sql, (*params, limit)).fetchall()
        return [_record(r) for r in rows]

    def aggregate_by_model(
        self,
        workflow: str,
        stage: str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[ModelAggregate]:
        """Per model: calls, successes and sums over the window, most-called first.

        Whole hours come from the rollup; the partial hours at the window's edges
        from the calls themselves, so the answer is exact."""
        _check_limit(limit)
        since_ms, until_ms = _window(since, until)
        first_full = _ceil_hour(since_ms)
        totals: _Totals = {}
        conn = self._reader()
        if conn is None:
            return []
        # one read transaction so the three parts see the same snapshot
        conn.execute("BEGIN")
        try:
            if until_ms is not None and until_ms <= first_full:
                self._sum_raw(conn, totals, workflow, stage, since_ms, until_ms)
            else:
                end_full = None if until_ms is None else _floor_hour(until_ms)
                self._sum_raw(conn, totals, workflow, stage, since_ms, first_full)
                self._sum_rollup(conn, totals, workflow, stage, first_full, end_full)
                if until_ms is not None and end_full is not None:
                    self._sum_raw(conn, totals, workflow, stage, end_full, until_ms)
        finally:
            conn.execute("COMMIT")
        aggregates = [ModelAggregate(model, provider, tier, *sums) for (model, provider, tier), sums in totals.items()]
        aggregates.sort(key=lambda a: (-a.calls, a.model_id, a.provider, a.tier))
        return aggregates[:limit]

    def workflows(
        self, *, since: datetime | None = None, until: datetime | None = None, limit: int = 100
    ) -> list[tuple[str, int]]:
        """``(workflow, calls)`` for every workflow with calls in the window, most calls
        first (then by name). Whole hours come from the rollup, the partial hours at
        the edges from the calls (one index range per workflow and stage), so the cost
        does not grow with the number of rows."""
        _check_limit(limit)
        since_ms, until_ms = _window(since, until)
        conn = self._reader()
        if conn is None:
            return []
        first_full = _ceil_hour(since_ms)
        counts: dict[str, int] = {}
        conn.execute("BEGIN")  # one snapshot for every part
        try:
            if until_ms is not None and until_ms <= first_full:
                self._count_raw(conn, counts, since_ms, until_ms)
            else:
                end_full = None if until_ms is None else _floor_hour(until_ms)
                self._count_raw(conn, counts, since_ms, first_full)
                end_sql, end_params = ("AND bucket_ms < ? ", (end_full,)) if end_full is not None else ("", ())
                rows = conn.execute(
                    f"SELECT workflow, SUM(calls) FROM llm_calls_hourly WHERE bucket_ms >= ? {end_sql}"
                    "GROUP BY workflow",
                    (first_full, *end_params),
                )
                for workflow, calls in rows:
                    counts[workflow] = counts.get(workflow, 0) + calls
                if until_ms is not None and end_full is not None:
                    self._count_raw(conn, counts, end_full, until_ms)
        finally:
            conn.execute("COMMIT")
        ranked = sorted(((w, n) for w, n in counts.items() if n), key=lambda item: (-item[1], item[0]))
        return ranked[:limit]

    @staticmethod
    def _count_raw(conn: sqlite3.Connection, counts: dict[str, int], start_ms: int, end_ms: int) -> None:
        """Add the calls in [start_ms, end_ms), part of one hour, to ``counts``."""
        if end_ms <= start_ms:
            return
        pairs = conn.execute(
            "SELECT DISTINCT workflow, stage FROM llm_calls_hourly WHERE bucket_ms >= ? AND bucket_ms < ?",
            (_floor_hour(start_ms), end_ms),
        ).fetchall()
        for workflow, stage in pairs:
            (calls,) = conn.execute(
                "SELECT COUNT(*) FROM llm_calls WHERE workflow = ? AND stage = ? AND ts_ms >= ? AND ts_ms < ?",
                (workflow, stage, start_ms, end_ms),
            ).fetchone()
            counts[workflow] = counts.get(workflow, 0) + calls

    @staticmethod
    def _add(totals: _Totals, rows: Iterable[Sequence[Any]]) -> None:
        for model, provider, tier, *sums in rows:
            acc = totals.get((model, provider, tier))
            if acc is None:
                totals[(model, provider, tier)] = [v or 0 for v in sums]
            else:
                for i, v in enumerate(sums):
                    acc[i] += v or 0

    def _sum_raw(
        self, conn: sqlite3.Connection, totals: _Totals, workflow: str, stage: str | None, start_ms: int, end_ms: int
    ) -> None:
        if end_ms <= start_ms:
            return
        stage_sql, params = ("AND stage = ? ", [stage]) if stage is not None else ("", [])
        rows = conn.execute(
            "SELECT model_id, provider, tier, COUNT(*), SUM(success), SUM(latency_ms), "
            "SUM(cost), SUM(tokens_input), SUM(tokens_output) FROM llm_calls "
            f"WHERE workflow = ? {stage_sql}AND ts_ms >= ? AND ts_ms < ? "
            "GROUP BY model_id, provider, tier",
            (workflow, *params, start_ms, end_ms),
        )
        self._add(totals, rows)

    def _sum_rollup(
        self,
        conn: sqlite3.Connection,
        totals: _Totals,
        workflow: str,
        stage: str | None,
        start_ms: int,
        end_ms: int | None,
    ) -> None:
        stage_sql, params = ("AND stage = ? ", [stage]) if stage is not None else ("", [])
        end_sql, end_params = ("AND bucket_ms < ? ", [end_ms]) if end_ms is not None else ("", [])
        rows = conn.execute(
            "SELECT model_id, provider, tier, SUM(calls), SUM(successes), SUM(latency_ms_sum), "
            "SUM(cost_sum), SUM(tokens_input_sum), SUM(tokens_output_sum) FROM llm_calls_hourly "
            f"WHERE workflow = ? {stage_sql}AND bucket_ms >= ? {end_sql}"
            "GROUP BY model_id, provider, tier",
            (workflow, *params, start_ms, *end_params),
        )
        self._add(totals, rows)


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
