"""The telemetry store: real SQLite files, real threads and processes."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from attune.models import LLMCallRecord, TelemetryBackend, TelemetryStore, get_telemetry_store
from attune.models.telemetry.records import TelemetryStoreError
from attune.models.telemetry.store import MAX_QUERY_LIMIT

NOW = datetime.now(UTC)


def call(
    *,
    ago: timedelta = timedelta(minutes=1),
    workflow: str = "docs",
    stage: str = "write",
    model: str = "claude-haiku-4-5",
    tier: str = "cheap",
    success: bool = True,
    latency: float = 100.0,
    cost: float = 0.001,
    tokens: tuple[int, int] = (100, 50),
) -> LLMCallRecord:
    return LLMCallRecord(
        workflow=workflow,
        stage=stage,
        task_type="summarize",
        provider="anthropic",
        tier=tier,
        model_id=model,
        success=success,
        error_type=None if success else "timeout",
        latency_ms=latency,
        tokens_input=tokens[0],
        tokens_output=tokens[1],
        cost=cost,
        timestamp=NOW - ago,
    )


@pytest.fixture
def store(tmp_path: Path) -> TelemetryStore:
    s = TelemetryStore(tmp_path / "telemetry.db")
    yield s
    s.close()


def test_a_call_reads_back_as_written_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
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
    )
    with TelemetryStore(path, retention_days=None) as s:
        s.record_call(written)
    with TelemetryStore(path, retention_days=None) as s:
        [read] = s.recent_calls("review", "security", since=datetime(2026, 3, 1, tzinfo=UTC))
    assert read == written


def test_timestamp_defaults_to_now_in_utc() -> None:
    before = datetime.now(UTC)
    rec = LLMCallRecord("w", "s", "t", "anthropic", "cheap", "m", True)
    assert rec.timestamp.tzinfo is not None and rec.timestamp.utcoffset() == timedelta(0)
    assert before <= rec.timestamp <= datetime.now(UTC)


def test_naive_timestamp_and_bad_numbers_are_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="no timezone"):
        LLMCallRecord("w", "s", "t", "anthropic", "cheap", "m", True, timestamp=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="latency_ms"):
        LLMCallRecord("w", "s", "t", "anthropic", "cheap", "m", True, latency_ms=-1)
    with pytest.raises(ValueError, match="cost"):
        LLMCallRecord("w", "s", "t", "anthropic", "cheap", "m", True, cost=float("nan"))
    with pytest.raises(ValueError, match="workflow"):
        LLMCallRecord("", "s", "t", "anthropic", "cheap", "m", True)


def test_file_is_in_wal_mode_and_the_store_is_a_telemetry_backend(store: TelemetryStore) -> None:
    assert isinstance(store, TelemetryBackend)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        indexed = {
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'llm_calls'")
        }
    assert {"llm_calls_workflow_stage_ts", "llm_calls_model_ts"} <= indexed


def test_a_batch_is_all_or_nothing(store: TelemetryStore) -> None:
    good = call()
    bad = call()
    bad.timestamp = datetime(2026, 1, 1)  # made naive after validation
    with pytest.raises(ValueError):
        store.record_calls([good, bad])
    assert store.recent_calls("docs") == []
    assert store.record_calls([good, call()]) == 2
    assert len(store.recent_calls("docs")) == 2


def test_recent_calls_are_the_newest_first_and_bounded(store: TelemetryStore) -> None:
    minutes = list(range(1, 61))
    random.Random(7).shuffle(minutes)  # inserted out of time order
    store.record_calls([call(ago=timedelta(minutes=m), latency=float(m)) for m in minutes])
    store.record_call(call(ago=timedelta(days=8), latency=999.0))  # outside the default 7 days

    newest = store.recent_calls("docs", "write", limit=5)
    assert [c.latency_ms for c in newest] == [1.0, 2.0, 3.0, 4.0, 5.0]

    window = store.recent_calls(
        "docs", since=NOW - timedelta(minutes=10, seconds=30), until=NOW - timedelta(minutes=5, seconds=30), limit=100
    )
    assert [c.latency_ms for c in window] == [6.0, 7.0, 8.0, 9.0, 10.0]

    assert len(store.recent_calls("docs", limit=1000)) == 60
    assert len(store.recent_calls("docs", since=NOW - timedelta(days=9), limit=1000)) == 61
    by_model = store.recent_calls(model_id="claude-haiku-4-5", limit=3)
    assert [c.latency_ms for c in by_model] == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("limit", [0, -1, MAX_QUERY_LIMIT + 1])
def test_unbounded_or_empty_limits_are_refused(store: TelemetryStore, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.recent_calls("docs", limit=limit)
    with pytest.raises(ValueError, match="limit"):
        store.aggregate_by_model("docs", limit=limit)


def test_a_query_without_workflow_or_model_is_refused(store: TelemetryStore) -> None:
    with pytest.raises(ValueError, match="workflow or a model_id"):
        store.recent_calls()


def test_aggregates_are_exact_for_windows_that_cut_through_hours(store: TelemetryStore) -> None:
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


def test_aggregates_are_most_called_first_and_limited(store: TelemetryStore) -> None:
    store.record_calls([call(model="m1")] * 3 + [call(model="m2")] * 5 + [call(model="m3")])
    aggs = store.aggregate_by_model("docs", "write")
    assert [(a.model_id, a.calls) for a in aggs] == [("m2", 5), ("m1", 3), ("m3", 1)]
    assert [a.model_id for a in store.aggregate_by_model("docs", "write", limit=1)] == ["m2"]


def test_retention_deletes_old_calls_on_open_and_prune_on_demand(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with TelemetryStore(path, retention_days=None) as s:
        s.record_calls(
            [call(ago=timedelta(days=40))] * 3 + [call(ago=timedelta(days=10))] * 2 + [call(ago=timedelta(hours=2))]
        )
        assert s.aggregate_by_model("docs", since=NOW - timedelta(days=60))[0].calls == 6

    with TelemetryStore(path, retention_days=30) as s:  # applied when the store opens
        assert s.aggregate_by_model("docs", since=NOW - timedelta(days=60))[0].calls == 3
        assert len(s.recent_calls("docs", since=NOW - timedelta(days=60))) == 3

        assert s.prune(older_than_days=5) == 2
        [agg] = s.aggregate_by_model("docs", since=NOW - timedelta(days=60))
        assert agg.calls == 1  # the hourly rollup went with the rows
        assert s.prune(older_than_days=5) == 0


def test_four_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    TelemetryStore(path).close()  # created up front; writers then race on inserts only
    script = textwrap.dedent("""
        import sys
        from attune.models.telemetry import LLMCallRecord, TelemetryStore
        worker = int(sys.argv[2])
        store = TelemetryStore(sys.argv[1])
        def rec(i):
            return LLMCallRecord("multi", "stage", "summarize", "anthropic", "cheap",
                                 f"model-{worker}", i % 5 != 0, latency_ms=float(i), cost=0.001)
        for i in range(150):
            store.record_call(rec(i))
        for start in range(150, 450, 50):
            store.record_calls([rec(i) for i in range(start, start + 50)])
        store.close()
    """)
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path), str(w)], stderr=subprocess.PIPE, text=True)
        for w in range(4)
    ]
    for p in procs:
        _, err = p.communicate(timeout=90)
        assert p.returncode == 0, err

    with TelemetryStore(path) as s:
        aggs = {a.model_id: a for a in s.aggregate_by_model("multi", "stage")}
        assert {m: a.calls for m, a in aggs.items()} == {f"model-{w}": 450 for w in range(4)}
        assert all(a.successes == 360 for a in aggs.values())
        for w in range(4):  # the raw rows agree with the rollup
            rows = s.recent_calls("multi", "stage", model_id=f"model-{w}", limit=1000)
            assert sorted(c.latency_ms for c in rows) == [float(i) for i in range(450)]


def test_threads_sharing_one_store_lose_nothing(store: TelemetryStore) -> None:
    def write(worker: int) -> None:
        for i in range(100):
            store.record_call(call(model=f"t{worker}", latency=float(i)))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {a.model_id: a.calls for a in store.aggregate_by_model("docs")} == {f"t{w}": 100 for w in range(8)}


def test_shared_store_lives_under_attune_home_one_per_path(
    attune_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = get_telemetry_store()
    assert first.path == (attune_home / "state" / "telemetry.db").resolve()
    assert first.path.exists()
    assert get_telemetry_store() is first

    other_home = tmp_path / "other-home"
    monkeypatch.setenv("ATTUNE_HOME", str(other_home))
    second = get_telemetry_store()
    assert second is not first
    assert second.path == (other_home / "state" / "telemetry.db").resolve()
    first.record_call(call(workflow="only-in-first"))
    assert second.recent_calls("only-in-first") == []


def test_a_file_that_is_not_a_database_is_reported_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(TelemetryStoreError, match=str(path)):
        TelemetryStore(path)
    assert path.read_bytes() == b"this is not sqlite" * 100


def test_a_forked_child_uses_its_own_connection(store: TelemetryStore) -> None:
    store.record_call(call(model="parent"))
    if not hasattr(os, "fork"):
        pytest.skip("needs fork")
    pid = os.fork()
    if pid == 0:  # child: write through the inherited store object
        try:
            store.record_call(call(model="child"))
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert {a.model_id for a in store.aggregate_by_model("docs")} == {"parent", "child"}


def test_a_record_without_task_type_is_unknown_and_is_stored_as_such(store: TelemetryStore) -> None:
    rec = LLMCallRecord(
        workflow="w", stage="s", provider="anthropic", tier="cheap", model_id="claude-haiku-4-5", success=True
    )
    assert rec.task_type == "unknown"
    store.record_call(rec)
    [read] = store.recent_calls("w", "s")
    assert read.task_type == "unknown"


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2026-03-01T12:00:00Z", "LLMCallRecord.timestamp must be an aware datetime or epoch seconds"),
        (datetime(2026, 3, 1, 12), "LLMCallRecord.timestamp 2026-03-01T12:00:00 has no timezone"),
        (float("nan"), "LLMCallRecord.timestamp must be an aware datetime or epoch seconds"),
        (True, "LLMCallRecord.timestamp must be an aware datetime or epoch seconds"),
    ],
)
def test_a_bad_timestamp_is_refused_when_the_record_is_built_naming_the_field(timestamp, expected) -> None:
    with pytest.raises(ValueError) as caught:
        LLMCallRecord("w", "s", "t", "anthropic", "cheap", "m", True, timestamp=timestamp)
    assert str(caught.value).startswith(expected), str(caught.value)


def test_epoch_seconds_are_read_as_utc(store: TelemetryStore) -> None:
    rec = LLMCallRecord("w", "s", "t", "anthropic", "cheap", "m", True, timestamp=1_780_000_000.25)
    assert rec.timestamp == datetime(2026, 5, 28, 20, 26, 40, 250000, tzinfo=UTC)
    store.record_call(rec)
    [read] = store.recent_calls("w", "s", since=datetime(2026, 5, 28, tzinfo=UTC))
    assert read.timestamp == rec.timestamp


@pytest.mark.parametrize("missing", ["provider", "tier", "model_id", "success"])
def test_a_record_missing_a_required_field_is_refused_naming_it(missing: str) -> None:
    fields: dict[str, object] = {"workflow": "w", "stage": "s", "provider": "anthropic", "tier": "cheap"}
    fields.update(model_id="m", success=True)
    del fields[missing]
    with pytest.raises(ValueError, match=rf"^LLMCallRecord\.{missing} must be"):
        LLMCallRecord(**fields)  # type: ignore[arg-type]
