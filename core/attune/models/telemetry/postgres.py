"""Telemetry in PostgreSQL, for a team: the same tables and reads as the SQLite store
(``queries``), through psycopg 3 and a connection pool.

What is PostgreSQL's:

- Each call has a ``uid`` (unique). A batch is copied (``COPY``) into a temporary
  table and moved into ``llm_calls`` with ``ON CONFLICT (uid) DO NOTHING``, in the
  order given: a batch sent twice (the outbox replaying after a crash between the
  server's commit and its own) is stored once.
- A statement-level trigger with a transition table updates both rollups once per
  batch, whoever inserts: one upsert per distinct key instead of one per row. Its
  inserts are ordered by key, so concurrent writers lock rollup rows in the same order
  and cannot deadlock each other.
- The schema version is a row of ``attune_schema``; migrations run under an advisory
  lock, so writers opening an older database at once upgrade it once. A newer
  version is refused.
- Reads run in a ``REPEATABLE READ READ ONLY`` transaction: all the parts of an
  aggregate see one snapshot.

Runs are not kept here (they stay in each machine's SQLite store); this store holds
calls only. Writers normally reach it through the outbox (``outbox``), never directly.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from attune.models.telemetry.queries import (
    CALL_COLUMNS,
    DEFAULT_RETENTION_DAYS,
    KEY_SQL,
    RollupQueries,
    Snapshot,
    call_row,
    retention_cutoff_ms,
)
from attune.models.telemetry.records import LLMCallRecord, TelemetryStoreError
from attune.models.telemetry.urls import redact

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 3  # the SQLite store's numbering: 2 is calls and the hourly rollup, 3 adds users and days
CONNECT_TIMEOUT = 5.0  # seconds to wait for a connection before the store counts as unreachable
# after a failure, reads fail at once for this long instead of each waiting CONNECT_TIMEOUT
# (the router reads before every call); writes (the outbox's sender) always try
FAIL_FAST_SECONDS = 5.0
POOL_NAME = "attune-telemetry"


class _QuietPoolOutage(logging.Filter):
    """psycopg's pool logs every failed reconnect of ours, and every connection a
    restarted server closed; the outbox says it once."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            return True
        message = record.getMessage()
        return POOL_NAME not in message and not message.startswith("discarding closed connection")


logging.getLogger("psycopg.pool").addFilter(_QuietPoolOutage())
_LOCK_KEY = 0x617474756E65  # "attune": the advisory lock that serialises migrations

# the rollup trigger's update of the hourly rollup, from the statement's new rows (in
# both versions of the trigger function)
_HOURLY_UPSERT = """            INSERT INTO llm_calls_hourly
            SELECT workflow, stage, ts_ms - ts_ms % 3600000, model_id, provider, tier, COUNT(*), SUM(success),
                   SUM(latency_ms), SUM(cost), SUM(tokens_input), SUM(tokens_output)
            FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (workflow, stage, bucket_ms, model_id, provider, tier) DO UPDATE SET
                calls = llm_calls_hourly.calls + excluded.calls,
                successes = llm_calls_hourly.successes + excluded.successes,
                latency_ms_sum = llm_calls_hourly.latency_ms_sum + excluded.latency_ms_sum,
                cost_sum = llm_calls_hourly.cost_sum + excluded.cost_sum,
                tokens_input_sum = llm_calls_hourly.tokens_input_sum + excluded.tokens_input_sum,
                tokens_output_sum = llm_calls_hourly.tokens_output_sum + excluded.tokens_output_sum;
"""

# version -> the statements that bring a database from the version before to it
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        """CREATE TABLE llm_calls (
            id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            uid           TEXT             NOT NULL UNIQUE,
            ts_ms         BIGINT           NOT NULL,
            workflow      TEXT             NOT NULL,
            stage         TEXT             NOT NULL,
            task_type     TEXT             NOT NULL,
            provider      TEXT             NOT NULL,
            tier          TEXT             NOT NULL,
            model_id      TEXT             NOT NULL,
            success       INTEGER          NOT NULL,
            error_type    TEXT,
            latency_ms    DOUBLE PRECISION NOT NULL,
            tokens_input  BIGINT           NOT NULL,
            tokens_output BIGINT           NOT NULL,
            cost          DOUBLE PRECISION NOT NULL,
            run_id        TEXT
        )""",
        "CREATE INDEX llm_calls_workflow_stage_ts ON llm_calls (workflow, stage, ts_ms)",
        "CREATE INDEX llm_calls_model_ts ON llm_calls (model_id, ts_ms)",
        "CREATE INDEX llm_calls_workflow_stage_model_ts ON llm_calls (workflow, stage, model_id, ts_ms)",
        """CREATE TABLE llm_calls_hourly (
            workflow          TEXT             NOT NULL,
            stage             TEXT             NOT NULL,
            bucket_ms         BIGINT           NOT NULL,
            model_id          TEXT             NOT NULL,
            provider          TEXT             NOT NULL,
            tier              TEXT             NOT NULL,
            calls             BIGINT           NOT NULL,
            successes         BIGINT           NOT NULL,
            latency_ms_sum    DOUBLE PRECISION NOT NULL,
            cost_sum          DOUBLE PRECISION NOT NULL,
            tokens_input_sum  BIGINT           NOT NULL,
            tokens_output_sum BIGINT           NOT NULL,
            PRIMARY KEY (workflow, stage, bucket_ms, model_id, provider, tier)
        )""",
        "CREATE INDEX llm_calls_hourly_bucket ON llm_calls_hourly (bucket_ms)",
        f"""CREATE OR REPLACE FUNCTION attune_llm_calls_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
{_HOURLY_UPSERT}            RETURN NULL;
        END $$""",
        """CREATE TRIGGER llm_calls_rollup AFTER INSERT ON llm_calls
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION attune_llm_calls_rollup()""",
    ),
    3: (
        # the reads use one index (``queries``); with the id last, "newest first" (ts_ms, id
        # descending) is the index's own order, as SQLite's rowid makes it there
        "DROP INDEX llm_calls_workflow_stage_ts",
        "DROP INDEX llm_calls_model_ts",
        "DROP INDEX llm_calls_workflow_stage_model_ts",
        "CREATE INDEX llm_calls_workflow_stage_model_ts ON llm_calls (workflow, stage, model_id, ts_ms, id)",
        "ALTER TABLE llm_calls ADD COLUMN user_name TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE llm_calls ADD COLUMN machine TEXT NOT NULL DEFAULT ''",
        """CREATE TABLE llm_calls_daily (
            day_ms            BIGINT           NOT NULL,
            user_name         TEXT             NOT NULL,
            workflow          TEXT             NOT NULL,
            task_type         TEXT             NOT NULL,
            model_id          TEXT             NOT NULL,
            calls             BIGINT           NOT NULL,
            successes         BIGINT           NOT NULL,
            cost_sum          DOUBLE PRECISION NOT NULL,
            tokens_input_sum  BIGINT           NOT NULL,
            tokens_output_sum BIGINT           NOT NULL,
            PRIMARY KEY (day_ms, user_name, workflow, task_type, model_id)
        )""",
        """INSERT INTO llm_calls_daily
            SELECT ts_ms - ts_ms % 86400000, user_name, workflow, task_type, model_id, COUNT(*), SUM(success),
                   SUM(cost), SUM(tokens_input), SUM(tokens_output)
            FROM llm_calls GROUP BY 1, 2, 3, 4, 5""",
        f"""CREATE OR REPLACE FUNCTION attune_llm_calls_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
{_HOURLY_UPSERT}            INSERT INTO llm_calls_daily
            SELECT ts_ms - ts_ms % 86400000, user_name, workflow, task_type, model_id, COUNT(*), SUM(success),
                   SUM(cost), SUM(tokens_input), SUM(tokens_output)
            FROM new_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (day_ms, user_name, workflow, task_type, model_id) DO UPDATE SET
                calls = llm_calls_daily.calls + excluded.calls,
                successes = llm_calls_daily.successes + excluded.successes,
                cost_sum = llm_calls_daily.cost_sum + excluded.cost_sum,
                tokens_input_sum = llm_calls_daily.tokens_input_sum + excluded.tokens_input_sum,
                tokens_output_sum = llm_calls_daily.tokens_output_sum + excluded.tokens_output_sum;
            RETURN NULL;
        END $$""",
    ),
}

_COLUMNS = CALL_COLUMNS.split(", ")
_STAGING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS attune_incoming (seq BIGINT, uid TEXT, ts_ms BIGINT, workflow TEXT, "
    "stage TEXT, task_type TEXT, provider TEXT, tier TEXT, model_id TEXT, success INTEGER, error_type TEXT, "
    "latency_ms DOUBLE PRECISION, tokens_input BIGINT, tokens_output BIGINT, cost DOUBLE PRECISION, run_id TEXT, "
    "user_name TEXT, machine TEXT) ON COMMIT DELETE ROWS"
)


def _psycopg_sql(sql: str) -> str:
    """The ``?`` placeholders of ``queries`` in psycopg's style (a literal % doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _PgSnapshot:
    def __init__(self, cur: psycopg.Cursor[Any]) -> None:
        self._cur = cur

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        self._cur.execute(_psycopg_sql(sql), params)
        return self._cur.fetchall()


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The database's schema version (0: none yet; the version table is made here)."""
    conn.execute("CREATE TABLE IF NOT EXISTS attune_schema (version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM attune_schema").fetchone()
    if row is None:
        conn.execute("INSERT INTO attune_schema VALUES (0)")
        return 0
    return int(row[0])


def apply_migrations(conn: psycopg.Connection[Any], version: int, target: int) -> None:
    """Bring a database from schema ``version`` to ``target`` (in the caller's
    transaction; the calls already stored keep every value)."""
    for step in sorted(v for v in _MIGRATIONS if version < v <= target):
        for statement in _MIGRATIONS[step]:
            conn.execute(statement)
        conn.execute("UPDATE attune_schema SET version = %s", (step,))


class PostgresTelemetryStore(RollupQueries):
    """LLM call records in PostgreSQL (see the module doc)."""

    _prune_postponed_by = (TelemetryStoreError,)  # the server did not answer

    def __init__(
        self,
        url: str,
        *,
        retention_days: float | None = DEFAULT_RETENTION_DAYS,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_wait: float | None = None,
        max_connections: int = 4,
    ) -> None:
        """``read_wait``: the longest a read waits for a connection (default
        ``connect_timeout``); short where a call waits on the read (the router)."""
        if retention_days is not None and (not math.isfinite(retention_days) or retention_days <= 0):
            raise ValueError(f"retention_days must be > 0 or None, got {retention_days!r}")
        self.url = url
        self.retention_days = retention_days
        self.connect_timeout = connect_timeout
        self.read_wait = connect_timeout if read_wait is None else read_wait
        self.max_connections = max_connections
        self._closed = False
        self._ready = False
        self._ready_lock = threading.Lock()
        self._failed: tuple[float, str] | None = None  # (time.monotonic(), message) of the last failure
        # made on first use: a process that never reaches the server opens nothing, and
        # one without psycopg can still be built (its outbox keeps the calls)
        self._pool: ConnectionPool[Any] | None = None
        self._pool_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PostgresTelemetryStore({redact(self.url)!r})"

    # --- connections -------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        if self._pool is not None:
            self._pool.close(timeout=1.0)

    def _connection_pool(self) -> ConnectionPool[Any]:
        with self._pool_lock:
            return self._open_pool() if self._pool is None else self._pool

    def _open_pool(self) -> ConnectionPool[Any]:
        try:
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise TelemetryStoreError(
                f"{redact(self.url)}: a postgresql:// telemetry URL needs psycopg 3: "
                "pip install 'attune-companion[postgres]'"
            ) from None
        pool: ConnectionPool[Any] = ConnectionPool(
            self.url,
            min_size=1,
            max_size=self.max_connections,
            open=False,
            timeout=self.connect_timeout,
            # a pooled connection a restarted server closed is replaced, not handed out
            check=ConnectionPool.check_connection,
            kwargs=self._connect_options(),
            name=POOL_NAME,
        )
        pool.open(wait=False)
        self._pool = pool
        return pool

    def __enter__(self) -> PostgresTelemetryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _connection(self, *, retry: bool = False, wait: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection whose schema is current; errors become one-line
        ``TelemetryStoreError``s naming the server (never its password). Within
        FAIL_FAST_SECONDS of a failure it fails at once, unless ``retry``."""
        if self._closed:
            raise TelemetryStoreError(f"{redact(self.url)}: the telemetry store is closed")
        pool = self._connection_pool()
        import psycopg
        from psycopg_pool import PoolTimeout

        failed = self._failed
        if failed is not None and not retry and time.monotonic() - failed[0] < FAIL_FAST_SECONDS:
            raise TelemetryStoreError(failed[1])
        try:
            if not self._ready or failed is not None:
                # first use, or after a failure: one direct connection says at once what
                # is wrong (refused, a bad password), where the pool would retry until
                # its timeout; it also makes or upgrades the schema
                with psycopg.connect(self.url, **self._connect_options()) as probe:
                    self._init_schema(probe)
            with pool.connection(timeout=self.connect_timeout if wait is None else wait) as conn:
                yield conn
        except PoolTimeout:
            waited = self.connect_timeout if wait is None else wait
            raise self._failure(f"PostgreSQL did not answer within {waited:g} s") from None
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise self._failure(f"PostgreSQL is unreachable ({first})") from None
        self._failed = None

    def _connect_options(self) -> dict[str, Any]:
        return {"connect_timeout": max(1, math.ceil(self.connect_timeout)), "application_name": "attune"}

    def _failure(self, problem: str) -> TelemetryStoreError:
        message = f"{redact(self.url)}: {problem}"
        self._failed = (time.monotonic(), message)
        return TelemetryStoreError(message)

    def _init_schema(self, conn: psycopg.Connection[Any]) -> None:
        with self._ready_lock:
            if self._ready:
                return
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                version = schema_version(conn)
                if version > SCHEMA_VERSION:
                    raise TelemetryStoreError(
                        f"{redact(self.url)}: telemetry schema version {version} is newer than this "
                        f"attune understands ({SCHEMA_VERSION}); upgrade attune"
                    )
                apply_migrations(conn, version, SCHEMA_VERSION)
            self._ready = True

    # --- writes ------------------------------------------------------------------

    def record_call(self, record: LLMCallRecord) -> None:
        self.record_calls([record])

    def record_calls(self, records: Iterable[LLMCallRecord]) -> int:
        """Store many calls in one transaction (each gets a new uid)."""
        return self.insert_rows([(i, uuid.uuid4().hex, call_row(r)) for i, r in enumerate(records)])

    def insert_rows(self, rows: Sequence[tuple[int, str, Sequence[Any]]]) -> int:
        """``(seq, uid, call row)`` triples, stored in ``seq`` order, each uid once:
        returns how many were new. All or nothing."""
        if not rows:
            return 0
        with self._connection(retry=True) as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(_STAGING)
            with cur.copy(f"COPY attune_incoming (seq, uid, {CALL_COLUMNS}) FROM STDIN") as copy:
                for seq, uid, row in rows:
                    copy.write_row((seq, uid, *row))
            cur.execute(
                f"INSERT INTO llm_calls (uid, {CALL_COLUMNS}) SELECT uid, {CALL_COLUMNS} FROM attune_incoming "
                "ORDER BY seq ON CONFLICT (uid) DO NOTHING"
            )
            added = cur.rowcount
        self._maybe_prune()
        return added

    # --- retention ---------------------------------------------------------------

    def prune(self, older_than_days: float) -> int:
        """Delete calls older than ``older_than_days`` (cut-off rounded down to the
        UTC day) and their rollups; returns how many calls went."""
        cutoff_ms = retention_cutoff_ms(older_than_days)
        with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
            deleted = 0
            for key in self._keys(_PgSnapshot(cur), None, cutoff_ms):  # index ranges, not a scan
                cur.execute(f"DELETE FROM llm_calls WHERE {_psycopg_sql(KEY_SQL)} AND ts_ms < %s", (*key, cutoff_ms))
                deleted += cur.rowcount
            cur.execute("DELETE FROM llm_calls_hourly WHERE bucket_ms < %s", (cutoff_ms,))
            cur.execute("DELETE FROM llm_calls_daily WHERE day_ms < %s", (cutoff_ms,))
        return deleted

    # --- reads -------------------------------------------------------------------

    @contextlib.contextmanager
    def _read(self) -> Iterator[Snapshot | None]:
        with self._connection(wait=self.read_wait) as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield _PgSnapshot(cur)

    def _snapshot(self) -> contextlib.AbstractContextManager[Snapshot | None]:
        return self._read()

    def count(self) -> int:
        """How many calls the store holds (tests and benchmarks)."""
        with self._read() as snap:
            assert snap is not None
            ((n,),) = snap.rows("SELECT COUNT(*) FROM llm_calls")
        return int(n)
