"""The reads every SQL telemetry store answers the same way, whatever the database.

Both stores (SQLite, PostgreSQL) keep the same three tables:

- ``llm_calls``: one row per call, time as ``ts_ms`` (integer milliseconds since the
  epoch, UTC), with one index, (workflow, stage, model_id, ts_ms). Each read of the
  calls asks the hourly rollup which keys have calls in its window, then reads one
  range of that index per key: one index keeps inserts fast (two more, on
  (workflow, stage, ts_ms) and (model_id, ts_ms), halved the insert rate);
- ``llm_calls_hourly``: per (workflow, stage, hour, model, provider, tier) the call
  count, successes and the sums of latency, cost and tokens; what the router reads;
- ``llm_calls_daily``: per (UTC day, user, workflow, task type, model) the calls,
  successes, cost and tokens; what ``attune spend`` reads.

Both rollups are written in the same transaction as the calls they sum. A query over
a window reads whole buckets from a rollup and only the partial buckets at either
edge from ``llm_calls``, so it costs the same at ten thousand rows or ten million.

The SQL here uses ``?`` placeholders; a store whose driver wants another style
translates them in its ``_Snapshot``. Identifiers that a database reserves are not
used as column names (the user is ``user_name``).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from attune.models.telemetry.records import (
    LLMCallRecord,
    ModelAggregate,
    SpendRow,
    from_epoch_ms,
    to_epoch_ms,
    utc_now,
)

logger = logging.getLogger(__name__)

DEFAULT_QUERY_DAYS = 7
DEFAULT_RETENTION_DAYS = 30
PRUNE_INTERVAL_SECONDS = 3600.0  # a writing process deletes old calls at most this often
MAX_QUERY_LIMIT = 10_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000

# ``attune spend --by``: the column of ``llm_calls_daily`` (and of ``llm_calls``) each groups by
SPEND_GROUPS: dict[str, str] = {
    "user": "user_name",
    "model": "model_id",
    "day": "day_ms",
    "workflow": "workflow",
    "task": "task_type",
}

CALL_COLUMNS = (
    "ts_ms, workflow, stage, task_type, provider, tier, model_id, success, "
    "error_type, latency_ms, tokens_input, tokens_output, cost, run_id, user_name, machine"
)

# the calls' one index is (workflow, stage, model_id, ts_ms); every read of the calls is a
# range of it, for one key the hourly rollup names (``RollupQueries._keys``)
KEY_SQL = "workflow = ? AND stage = ? AND model_id = ?"

# Running sums per (model_id, provider, tier): calls, successes, latency, cost, tokens in/out.
_Totals = dict[tuple[str, str, str], list[Any]]


class Snapshot(Protocol):
    """Reads that all see one consistent state of the database."""

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]: ...


def call_row(record: LLMCallRecord) -> tuple[Any, ...]:
    """``record`` as the values of CALL_COLUMNS."""
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
        record.run_id,
        record.user,
        record.machine,
    )


def call_record(row: Sequence[Any]) -> LLMCallRecord:
    """A row of CALL_COLUMNS as a record (checked when written: a clock set back
    since must not make it unreadable)."""
    (ts_ms, workflow, stage, task_type, provider, tier, model_id, success, error_type) = row[:9]
    (latency_ms, tokens_input, tokens_output, cost, run_id, user, machine) = row[9:]
    return LLMCallRecord.from_stored(
        workflow=workflow,
        stage=stage,
        task_type=task_type,
        provider=provider,
        tier=tier,
        model_id=model_id,
        success=bool(success),
        error_type=error_type,
        latency_ms=float(latency_ms),
        tokens_input=int(tokens_input),
        tokens_output=int(tokens_output),
        cost=float(cost),
        timestamp=from_epoch_ms(int(ts_ms)),
        run_id=run_id,
        user=user or "",
        machine=machine or "",
    )


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_QUERY_LIMIT:
        raise ValueError(f"limit must be an integer from 1 to {MAX_QUERY_LIMIT}, got {limit!r}")
    return limit


def window(since: datetime | None, until: datetime | None) -> tuple[int, int | None]:
    """(since_ms, until_ms or None); ``since`` defaults to DEFAULT_QUERY_DAYS ago."""
    if since is None:
        since = utc_now() - timedelta(days=DEFAULT_QUERY_DAYS)
    since_ms = to_epoch_ms(since)
    until_ms = None if until is None else to_epoch_ms(until)
    if until_ms is not None and until_ms < since_ms:
        raise ValueError(f"until ({until}) is before since ({since})")
    return since_ms, until_ms


def retention_cutoff_ms(older_than_days: float) -> int:
    """The start of the UTC day ``older_than_days`` ago: calls before it are deleted
    (a whole day, so that the rollups and the calls always agree)."""
    if not math.isfinite(older_than_days) or older_than_days < 0:
        raise ValueError(f"older_than_days must be >= 0, got {older_than_days!r}")
    return floor_to(to_epoch_ms(utc_now()) - int(older_than_days * DAY_MS), DAY_MS)


def ceil_to(ms: int, size: int) -> int:
    return -(-ms // size) * size


def floor_to(ms: int, size: int) -> int:
    return ms - ms % size


@dataclass(frozen=True)
class _Split:
    """A window cut into a partial bucket at each edge and whole buckets between."""

    head: tuple[int, int] | None  # [start, end) read from the calls
    whole: tuple[int, int | None] | None  # [first bucket, end bucket or open)
    tail: tuple[int, int] | None


def split(since_ms: int, until_ms: int | None, size: int) -> _Split:
    first_whole = ceil_to(since_ms, size)
    if until_ms is not None and until_ms <= first_whole:
        return _Split((since_ms, until_ms) if until_ms > since_ms else None, None, None)
    end_whole = None if until_ms is None else floor_to(until_ms, size)
    head = (since_ms, first_whole) if first_whole > since_ms else None
    tail = (end_whole, until_ms) if until_ms is not None and end_whole is not None and until_ms > end_whole else None
    return _Split(head, (first_whole, end_whole), tail)


def range_sql(column: str, start: int, end: int | None) -> tuple[str, list[int]]:
    """``column >= ?``, with ``AND column < ?`` unless the range is open at the end,
    and its parameters."""
    if end is None:
        return f"{column} >= ?", [start]
    return f"{column} >= ? AND {column} < ?", [start, end]


def _add(totals: dict[Any, list[Any]], rows: Iterable[Sequence[Any]], key_width: int) -> None:
    """Adds each row's sums into ``totals`` under its key, its first ``key_width``
    columns (the column itself when 1)."""
    for row in rows:
        key = row[0] if key_width == 1 else tuple(row[:key_width])
        acc = totals.get(key)
        if acc is None:
            totals[key] = [v or 0 for v in row[key_width:]]
        else:
            for i, v in enumerate(row[key_width:]):
                acc[i] += v or 0


class RollupQueries:
    """What every SQL store does the same way: the reads (a store supplies
    ``_snapshot``) and when a writing process applies the retention (a store supplies
    ``prune`` and the errors that only postpone it)."""

    retention_days: float | None
    _last_prune: float = 0.0
    _prune_postponed_by: tuple[type[Exception], ...] = ()

    def prune(self, older_than_days: float) -> int:
        raise NotImplementedError

    def _maybe_prune(self) -> None:
        """Apply the retention now if it was not applied in the last
        PRUNE_INTERVAL_SECONDS (after a write); a busy or unreachable database
        postpones it to the next interval."""
        if self.retention_days is None:
            return
        now = time.monotonic()
        if self._last_prune and now - self._last_prune < PRUNE_INTERVAL_SECONDS:
            return
        self._last_prune = now
        try:
            self.prune(self.retention_days)
        except self._prune_postponed_by as exc:
            logger.warning("telemetry: retention prune skipped (%s)", exc)

    def _snapshot(self) -> contextlib.AbstractContextManager[Snapshot | None]:
        """A consistent read; None while there is nothing to read (a read-only store
        whose file does not exist yet)."""
        raise NotImplementedError

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

        Needs ``workflow`` or ``model_id``; ``stage`` needs ``workflow``."""
        check_limit(limit)
        if workflow is None and model_id is None:
            raise ValueError("recent_calls needs a workflow or a model_id")
        if stage is not None and workflow is None:
            raise ValueError("recent_calls: stage needs a workflow")
        since_ms, until_ms = window(since, until)
        ts_sql, ts_params = range_sql("ts_ms", since_ms, until_ms)
        found: list[tuple[Any, ...]] = []
        with self._snapshot() as snap:
            if snap is None:
                return []
            for key in self._keys(snap, since_ms, until_ms, workflow, stage, model_id):
                found.extend(
                    snap.rows(
                        f"SELECT id, {CALL_COLUMNS} FROM llm_calls WHERE {KEY_SQL} AND {ts_sql} "
                        "ORDER BY ts_ms DESC, id DESC LIMIT ?",
                        (*key, *ts_params, limit),
                    )
                )
        found.sort(key=lambda row: (row[1], row[0]), reverse=True)
        return [call_record(row[1:]) for row in found[:limit]]

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
        Exact: whole hours from the rollup, the partial hours from the calls."""
        check_limit(limit)
        parts = split(*window(since, until), HOUR_MS)
        stage_sql, stage_params = ("AND stage = ? ", [stage]) if stage is not None else ("", [])
        totals: _Totals = {}
        with self._snapshot() as snap:
            if snap is None:
                return []
            for key, edge in self._edge_keys(snap, parts, workflow, stage):
                _add(
                    totals,
                    (
                        (key[2], *row)
                        for row in snap.rows(
                            "SELECT provider, tier, COUNT(*), SUM(success), SUM(latency_ms), SUM(cost), "
                            f"SUM(tokens_input), SUM(tokens_output) FROM llm_calls WHERE {KEY_SQL} "
                            "AND ts_ms >= ? AND ts_ms < ? GROUP BY provider, tier",
                            (*key, *edge),
                        )
                    ),
                    3,
                )
            if parts.whole is not None:
                bucket_sql, bucket_params = range_sql("bucket_ms", *parts.whole)
                _add(
                    totals,
                    snap.rows(
                        "SELECT model_id, provider, tier, SUM(calls), SUM(successes), SUM(latency_ms_sum), "
                        "SUM(cost_sum), SUM(tokens_input_sum), SUM(tokens_output_sum) FROM llm_calls_hourly "
                        f"WHERE workflow = ? {stage_sql}AND {bucket_sql} "
                        "GROUP BY model_id, provider, tier",
                        (workflow, *stage_params, *bucket_params),
                    ),
                    3,
                )
        aggregates = [
            ModelAggregate(model, provider, tier, int(n), int(ok), float(lat), float(cost), int(tin), int(tout))
            for (model, provider, tier), (n, ok, lat, cost, tin, tout) in totals.items()
        ]
        aggregates.sort(key=lambda a: (-a.calls, a.model_id, a.provider, a.tier))
        return aggregates[:limit]

    def workflows(
        self, *, since: datetime | None = None, until: datetime | None = None, limit: int = 100
    ) -> list[tuple[str, int]]:
        """``(workflow, calls)`` for every workflow with calls in the window, most calls
        first (then by name)."""
        check_limit(limit)
        parts = split(*window(since, until), HOUR_MS)
        counts: dict[str, int] = {}
        with self._snapshot() as snap:
            if snap is None:
                return []
            for key, edge in self._edge_keys(snap, parts):
                ((calls,),) = snap.rows(
                    f"SELECT COUNT(*) FROM llm_calls WHERE {KEY_SQL} AND ts_ms >= ? AND ts_ms < ?",
                    (*key, *edge),
                )
                counts[key[0]] = counts.get(key[0], 0) + int(calls)
            if parts.whole is not None:
                bucket_sql, bucket_params = range_sql("bucket_ms", *parts.whole)
                for workflow, calls in snap.rows(
                    f"SELECT workflow, SUM(calls) FROM llm_calls_hourly WHERE {bucket_sql} GROUP BY workflow",
                    bucket_params,
                ):
                    counts[workflow] = counts.get(workflow, 0) + int(calls)
        ranked = sorted(((w, n) for w, n in counts.items() if n), key=lambda item: (-item[1], item[0]))
        return ranked[:limit]

    def spend(
        self,
        by: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = MAX_QUERY_LIMIT,
    ) -> list[SpendRow]:
        """Calls, tokens and dollars per user, model, UTC day, workflow or task type
        over the window: the most spent first (days in order). Whole UTC days come
        from the daily rollup, the partial days at the edges from the calls."""
        column = SPEND_GROUPS.get(by)
        if column is None:
            raise ValueError(f"spend: by must be one of {', '.join(SPEND_GROUPS)}, got {by!r}")
        check_limit(limit)
        parts = split(*window(since, until), DAY_MS)
        raw_key = f"ts_ms - (ts_ms % {DAY_MS})" if by == "day" else column
        sums: dict[Any, list[Any]] = {}
        with self._snapshot() as snap:
            if snap is None:
                return []
            for key, edge in self._edge_keys(snap, parts):
                _add(
                    sums,
                    snap.rows(
                        f"SELECT {raw_key}, COUNT(*), SUM(success), SUM(tokens_input), SUM(tokens_output), "
                        f"SUM(cost) FROM llm_calls WHERE {KEY_SQL} AND ts_ms >= ? AND ts_ms < ? "
                        f"GROUP BY {raw_key}",
                        (*key, *edge),
                    ),
                    1,
                )
            if parts.whole is not None:
                day_sql, day_params = range_sql("day_ms", *parts.whole)
                _add(
                    sums,
                    snap.rows(
                        f"SELECT {column}, SUM(calls), SUM(successes), SUM(tokens_input_sum), "
                        f"SUM(tokens_output_sum), SUM(cost_sum) FROM llm_calls_daily WHERE {day_sql} "
                        f"GROUP BY {column}",
                        day_params,
                    ),
                    1,
                )
        rows = [
            SpendRow(
                key=from_epoch_ms(int(key)).date().isoformat() if by == "day" else str(key),
                calls=int(calls),
                failures=int(calls) - int(ok),
                tokens_input=int(tin),
                tokens_output=int(tout),
                cost=float(cost),
            )
            for key, (calls, ok, tin, tout, cost) in sums.items()
            if calls
        ]
        if by == "day":
            rows.sort(key=lambda r: r.key)
        else:
            rows.sort(key=lambda r: (-r.cost, -r.calls, r.key))
        return rows[:limit]

    def _edge_keys(
        self, snap: Snapshot, parts: _Split, workflow: str | None = None, stage: str | None = None
    ) -> Iterator[tuple[tuple[str, str, str], tuple[int, int]]]:
        """The window's partial buckets at its edges, each with every key that has calls
        in it: the reads of the calls themselves."""
        for edge in (parts.head, parts.tail):
            if edge is not None:
                for key in self._keys(snap, *edge, workflow, stage):
                    yield key, edge

    @staticmethod
    def _keys(
        snap: Snapshot,
        start_ms: int | None,
        end_ms: int | None,
        workflow: str | None = None,
        stage: str | None = None,
        model_id: str | None = None,
    ) -> list[tuple[str, str, str]]:
        """The (workflow, stage, model) keys with calls in [start_ms, end_ms), as the
        hourly rollup names them, so that each read of the calls is one range of the
        calls' only index."""
        where: list[str] = ["true"]
        params: list[object] = []
        if start_ms is not None:
            where.append("bucket_ms >= ?")
            params.append(floor_to(start_ms, HOUR_MS))
        if end_ms is not None:
            where.append("bucket_ms < ?")
            params.append(end_ms)
        for column, value in (("workflow", workflow), ("stage", stage), ("model_id", model_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        return [
            (str(w), str(s), str(m))
            for w, s, m in snap.rows(
                f"SELECT DISTINCT workflow, stage, model_id FROM llm_calls_hourly WHERE {' AND '.join(where)}",
                params,
            )
        ]


@contextlib.contextmanager
def nothing() -> Iterator[None]:
    """The snapshot of a store with nothing to read."""
    yield None
