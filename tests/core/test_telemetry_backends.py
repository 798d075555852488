"""The suite every telemetry store passes: the SQLite file and a real PostgreSQL
(a throw-away cluster on 127.0.0.1), each test run once per store."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from attune.models import LLMCallRecord, TelemetryBackend
from attune.models.telemetry.backend import open_store
from attune.models.telemetry.queries import MAX_QUERY_LIMIT
from attune.models.telemetry.records import TelemetryStoreError
from support.telemetry_calls import NOW, call


@pytest.fixture(params=["sqlite", "postgres"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a new, empty store lives: a SQLite path or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "telemetry.db")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(where: str):  # type: ignore[no-untyped-def]
    s = open_store(where, retention_days=None)
    yield s
    s.close()


def test_the_store_is_a_telemetry_backend(store: TelemetryBackend) -> None:
    assert isinstance(store, TelemetryBackend)


def test_a_call_reads_back_as_written_and_survives_reopening(where: str) -> None:
    written = LLMCallRecord(
        workflow="review",
        stage="security",
        task_type="review_security",
        provider="anthropic",
        tier="capable",
        model_id="claude-sonnet-4-6",
        success=False,
        error_type="rate_limit",
        latency_ms=812.5,
        tokens_input=1234,
        tokens_output=56,
        cost=0.0045,
        timestamp=datetime(2026, 3, 1, 12, 30, 15, 123000, tzinfo=UTC),
        run_id="0123456789abcdef",
        user="ada@example.com",
        machine="build-7",
    )
    s = open_store(where, retention_days=None)
    s.record_call(written)
    s.close()
    s = open_store(where, retention_days=None)
    [read] = s.recent_calls("review", "security", since=datetime(2026, 3, 1, tzinfo=UTC))
    s.close()
    assert read == written


def test_a_batch_is_all_or_nothing(store: TelemetryBackend) -> None:
    good = call()
    bad = call()
    bad.timestamp = datetime(2026, 1, 1)  # made naive after validation
    with pytest.raises(ValueError):
        store.record_calls([good, bad])
    assert store.recent_calls("docs") == []
    assert store.record_calls([good, call()]) == 2
    assert len(store.recent_calls("docs")) == 2


def test_recent_calls_are_the_newest_first_and_bounded(store: TelemetryBackend) -> None:
    minutes = list(range(1, 61))
    random.Random(7).shuffle(minutes)  # inserted out of time order
    store.record_calls([call(ago=timedelta(minutes=m), latency=float(m)) for m in minutes])
    store.record_call(call(ago=timedelta(days=8), latency=999.0))  # outside the default 7 days

    assert [c.latency_ms for c in store.recent_calls("docs", "write", limit=5)] == [1.0, 2.0, 3.0, 4.0, 5.0]
    window = store.recent_calls(
        "docs", since=NOW - timedelta(minutes=10, seconds=30), until=NOW - timedelta(minutes=5, seconds=30), limit=100
    )
    assert [c.latency_ms for c in window] == [6.0, 7.0, 8.0, 9.0, 10.0]
    assert len(store.recent_calls("docs", limit=1000)) == 60
    assert len(store.recent_calls("docs", since=NOW - timedelta(days=9), limit=1000)) == 61
    assert [c.latency_ms for c in store.recent_calls(model_id="claude-haiku-4-5", limit=3)] == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("limit", [0, -1, MAX_QUERY_LIMIT + 1])
def test_unbounded_or_empty_limits_are_refused(store: TelemetryBackend, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.recent_calls("docs", limit=limit)
    with pytest.raises(ValueError, match="limit"):
        store.aggregate_by_model("docs", limit=limit)
    with pytest.raises(ValueError, match="limit"):
        store.spend("user", limit=limit)


def test_bad_queries_are_refused_naming_what_is_wrong(store: TelemetryBackend) -> None:
    with pytest.raises(ValueError, match="workflow or a model_id"):
        store.recent_calls()
    with pytest.raises(ValueError, match="by must be one of user, model, day, workflow, task"):
        store.spend("team")


def test_aggregates_are_exact_for_windows_that_cut_through_hours(store: TelemetryBackend) -> None:
    rng = random.Random(42)
    records = [
        call(
            ago=timedelta(seconds=rng.randrange(10 * 86_400)),
            stage=rng.choice(["a", "b"]),
            model=rng.choice(["m1", "m2", "m3"]),
            success=rng.random() < 0.8,
            latency=float(rng.randrange(50, 2000)),
            cost=rng.randrange(1, 100) / 10_000,
            tokens=(rng.randrange(1000), rng.randrange(500)),
        )
        for _ in range(4000)
    ]
    store.record_calls(records)
    windows = [
        (NOW - timedelta(days=3, minutes=17, seconds=3), NOW - timedelta(days=1, minutes=41)),
        (NOW - timedelta(hours=9, minutes=10), NOW - timedelta(hours=4, minutes=50)),
        (NOW - timedelta(days=7), None),
    ]
    for since, until in windows:
        for stage in ("a", None):
            got = {a.model_id: a for a in store.aggregate_by_model("docs", stage, since=since, until=until)}
            for model in ("m1", "m2", "m3"):
                expected = [
                    r
                    for r in records
                    if r.model_id == model
                    and (stage is None or r.stage == stage)
                    and r.timestamp >= since
                    and (until is None or r.timestamp < until)
                ]
                if not expected:
                    assert model not in got
                    continue
                agg = got[model]
                assert agg.calls == len(expected)
                assert agg.successes == sum(r.success for r in expected)
                assert agg.latency_ms_sum == pytest.approx(sum(r.latency_ms for r in expected))
                assert agg.cost_sum == pytest.approx(sum(r.cost for r in expected))
                assert agg.tokens_input_sum == sum(r.tokens_input for r in expected)
        got_workflows = dict(store.workflows(since=since, until=until))
        in_window = [r for r in records if r.timestamp >= since and (until is None or r.timestamp < until)]
        assert got_workflows == {"docs": len(in_window)}


def test_aggregates_are_most_called_first_and_limited(store: TelemetryBackend) -> None:
    store.record_calls([call(model="m1")] * 3 + [call(model="m2")] * 5 + [call(model="m3")])
    aggs = store.aggregate_by_model("docs", "write")
    assert [(a.model_id, a.calls) for a in aggs] == [("m2", 5), ("m1", 3), ("m3", 1)]
    assert [a.model_id for a in store.aggregate_by_model("docs", "write", limit=1)] == ["m2"]


def test_spend_is_exact_per_user_model_day_workflow_and_task(store: TelemetryBackend) -> None:
    rng = random.Random(3)
    users = ["ada@example.com", "bob@example.com", "cy@example.com"]
    records = [
        call(
            ago=timedelta(seconds=rng.randrange(6 * 86_400)),
            workflow=rng.choice(["docs", "review", "run:tests"]),
            stage=rng.choice(["a", "b"]),
            task_type=rng.choice(["summarize", "generate_code"]),
            model=rng.choice(["claude-haiku-4-5", "claude-sonnet-4-6"]),
            success=rng.random() < 0.9,
            cost=rng.randrange(1, 1000) / 10_000,
            tokens=(rng.randrange(5000), rng.randrange(900)),
            user=rng.choice(users),
        )
        for _ in range(3000)
    ]
    store.record_calls(records)
    keys = {
        "user": lambda r: r.user,
        "model": lambda r: r.model_id,
        "day": lambda r: r.timestamp.date().isoformat(),
        "workflow": lambda r: r.workflow,
        "task": lambda r: r.task_type,
    }
    since = NOW - timedelta(days=4, hours=5, minutes=3)  # through a day, so the edge comes from the calls
    until = NOW - timedelta(hours=7)
    for by, key in keys.items():
        in_window = [r for r in records if since <= r.timestamp < until]
        rows = store.spend(by, since=since, until=until)
        assert {row.key: row.calls for row in rows} == dict(Counter(key(r) for r in in_window))
        for row in rows:
            mine = [r for r in in_window if key(r) == row.key]
            assert row.cost == pytest.approx(sum(r.cost for r in mine))
            assert row.tokens_input == sum(r.tokens_input for r in mine)
            assert row.tokens_output == sum(r.tokens_output for r in mine)
            assert row.failures == sum(not r.success for r in mine)
        if by == "day":
            assert [r.key for r in rows] == sorted(r.key for r in rows)
        else:
            assert [r.cost for r in rows] == sorted((r.cost for r in rows), reverse=True)


def test_retention_deletes_old_calls_and_their_rollups(where: str) -> None:
    s = open_store(where, retention_days=None)
    s.record_calls(
        [call(ago=timedelta(days=40))] * 3 + [call(ago=timedelta(days=10))] * 2 + [call(ago=timedelta(hours=2))]
    )
    assert s.aggregate_by_model("docs", since=NOW - timedelta(days=60))[0].calls == 6
    s.close()

    s = open_store(where, retention_days=30)
    s.record_call(call(ago=timedelta(hours=1)))  # the retention runs with the first write
    assert s.aggregate_by_model("docs", since=NOW - timedelta(days=60))[0].calls == 4
    assert len(s.recent_calls("docs", since=NOW - timedelta(days=60))) == 4
    assert s.prune(older_than_days=5) == 2
    [agg] = s.aggregate_by_model("docs", since=NOW - timedelta(days=60))
    assert agg.calls == 2  # the hourly rollup went with the rows
    assert sum(r.calls for r in s.spend("day", since=NOW - timedelta(days=60))) == 2  # and the daily one
    assert s.prune(older_than_days=5) == 0
    s.close()


def test_eight_processes_writing_batches_at_once_lose_nothing(where: str, tmp_path: Path) -> None:
    s = open_store(where)
    s.recent_calls("multi")  # the schema made up front (a server's on first use); writers then race on inserts only
    s.close()
    script = textwrap.dedent("""
        import sys
        from attune.models.telemetry import LLMCallRecord
        from attune.models.telemetry.backend import open_store
        worker = int(sys.argv[2])
        store = open_store(sys.argv[1])
        def rec(i):
            return LLMCallRecord("multi", "stage", "summarize", "anthropic", "cheap", f"model-{worker}",
                                 i % 5 != 0, latency_ms=float(i), cost=0.001, user=f"user-{worker % 3}")
        for i in range(50):
            store.record_call(rec(i))
        for start in range(50, 650, 100):
            store.record_calls([rec(i) for i in range(start, start + 100)])
        store.close()
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", script, where, str(w)], stderr=subprocess.PIPE, text=True, env=env)
        for w in range(8)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err

    s = open_store(where)
    aggs = {a.model_id: a for a in s.aggregate_by_model("multi", "stage")}
    assert {m: a.calls for m, a in aggs.items()} == {f"model-{w}": 650 for w in range(8)}
    assert all(a.successes == 520 for a in aggs.values())
    for w in range(8):  # the raw rows agree with the rollup
        rows = s.recent_calls("multi", "stage", model_id=f"model-{w}", limit=1000)
        assert sorted(c.latency_ms for c in rows) == [float(i) for i in range(650)]
    assert {r.key: r.calls for r in s.spend("user")} == {"user-0": 3 * 650, "user-1": 3 * 650, "user-2": 2 * 650}
    s.close()


def test_threads_sharing_one_store_lose_nothing(store: TelemetryBackend) -> None:
    def write(worker: int) -> None:
        for i in range(50):
            store.record_call(call(model=f"t{worker}", latency=float(i)))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {a.model_id: a.calls for a in store.aggregate_by_model("docs")} == {f"t{w}": 50 for w in range(8)}


def test_epoch_seconds_are_read_as_utc(store: TelemetryBackend) -> None:
    rec = LLMCallRecord("w", "s", "t", "anthropic", "cheap", "m", True, timestamp=1_780_000_000.25)
    store.record_call(rec)
    [read] = store.recent_calls("w", "s", since=datetime(2026, 5, 28, tzinfo=UTC))
    assert read.timestamp == datetime(2026, 5, 28, 20, 26, 40, 250000, tzinfo=UTC)


# --- schema versions -----------------------------------------------------------------

_V2_SQLITE = """
CREATE TABLE llm_calls (
    id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, workflow TEXT NOT NULL, stage TEXT NOT NULL,
    task_type TEXT NOT NULL, provider TEXT NOT NULL, tier TEXT NOT NULL, model_id TEXT NOT NULL,
    success INTEGER NOT NULL, error_type TEXT, latency_ms REAL NOT NULL, tokens_input INTEGER NOT NULL,
    tokens_output INTEGER NOT NULL, cost REAL NOT NULL, run_id TEXT);
CREATE TABLE llm_calls_hourly (
    workflow TEXT NOT NULL, stage TEXT NOT NULL, bucket_ms INTEGER NOT NULL, model_id TEXT NOT NULL,
    provider TEXT NOT NULL, tier TEXT NOT NULL, calls INTEGER NOT NULL, successes INTEGER NOT NULL,
    latency_ms_sum REAL NOT NULL, cost_sum REAL NOT NULL, tokens_input_sum INTEGER NOT NULL,
    tokens_output_sum INTEGER NOT NULL, PRIMARY KEY (workflow, stage, bucket_ms, model_id, provider, tier)
) WITHOUT ROWID;
CREATE TRIGGER llm_calls_rollup AFTER INSERT ON llm_calls BEGIN
    INSERT INTO llm_calls_hourly VALUES (NEW.workflow, NEW.stage, NEW.ts_ms - (NEW.ts_ms % 3600000),
        NEW.model_id, NEW.provider, NEW.tier, 1, NEW.success, NEW.latency_ms, NEW.cost, NEW.tokens_input,
        NEW.tokens_output)
    ON CONFLICT DO UPDATE SET calls = calls + 1, successes = successes + excluded.successes,
        latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum, cost_sum = cost_sum + excluded.cost_sum,
        tokens_input_sum = tokens_input_sum + excluded.tokens_input_sum,
        tokens_output_sum = tokens_output_sum + excluded.tokens_output_sum;
END;
CREATE TABLE runs (run_id TEXT PRIMARY KEY, task TEXT NOT NULL, path TEXT NOT NULL, lines INTEGER,
    mode TEXT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL, error_type TEXT, started_ms INTEGER NOT NULL,
    finished_ms INTEGER, tokens INTEGER NOT NULL, estimated_cost REAL NOT NULL, estimated_api_cost REAL NOT NULL);
PRAGMA user_version = 2;
"""
_V2_INSERT = (
    "INSERT INTO llm_calls (ts_ms, workflow, stage, task_type, provider, tier, model_id, success, error_type, "
    "latency_ms, tokens_input, tokens_output, cost, run_id{uid}) VALUES ({marks})"
)


def _make_version_2(where: str, rows: list[tuple[object, ...]]) -> None:
    """A database as the previous schema version made it, holding ``rows``."""
    if not where.startswith("postgresql://"):
        with sqlite3.connect(where) as conn:
            conn.executescript(_V2_SQLITE)
            conn.executemany(_V2_INSERT.format(uid="", marks=", ".join("?" * 14)), rows)
        conn.close()
        return
    import psycopg

    from attune.models.telemetry.postgres import apply_migrations, schema_version

    with psycopg.connect(where) as conn:
        assert schema_version(conn) == 0
        apply_migrations(conn, 0, 2)
        conn.cursor().executemany(
            _V2_INSERT.format(uid=", uid", marks=", ".join(["%s"] * 15)),
            [(*row, f"old-{i}") for i, row in enumerate(rows)],
        )


def test_a_database_of_the_previous_schema_is_upgraded_in_place_keeping_its_calls(where: str) -> None:
    hour_ago = int((NOW - timedelta(hours=1)).timestamp() * 1000)
    model = ("anthropic", "cheap", "claude-haiku-4-5")
    rows = [(hour_ago + i, "docs", "write", "summarize", *model, 1, None, 10.0, 100, 5, 0.5, None) for i in range(40)]
    _make_version_2(where, rows)
    s = open_store(where)
    assert s.aggregate_by_model("docs")[0].calls == 40
    assert {(r.key, r.calls) for r in s.spend("user")} == {("", 40)}  # who made them was not recorded then
    s.record_call(call(user="ada@example.com", cost=2.0))
    assert {r.key: r.calls for r in s.spend("user")} == {"": 40, "ada@example.com": 1}
    assert s.spend("user")[0].key == "" and s.spend("user")[0].cost == pytest.approx(20.0)
    s.close()


def test_a_newer_schema_is_refused_with_a_clear_message(where: str) -> None:
    s = open_store(where)
    s.recent_calls("docs")  # a server's schema is made on first use
    s.close()
    if where.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(where) as conn:
            conn.execute("UPDATE attune_schema SET version = version + 1")
    else:
        with sqlite3.connect(where) as conn:
            conn.execute("PRAGMA user_version = 99")
        conn.close()
    with pytest.raises(TelemetryStoreError, match=r"schema version \d+ is newer than this attune understands"):
        s = open_store(where)  # a file is read when it is opened
        try:
            s.recent_calls("docs")  # a server when it is first used
        finally:
            s.close()
