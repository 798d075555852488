"""The runs store: runs and their stages in the telemetry database, estimate against
actual, the in-place migration from schema 1, and read-only listing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from attune.models import AuthStrategy, LLMCallRecord, TelemetryStore, estimate_task
from attune.models.telemetry.records import TelemetryStoreError
from attune.models.telemetry.runs import median_error_by_task
from attune.models.telemetry.store import SCHEMA_VERSION

STRATEGY = AuthStrategy(subscription_tier="pro")

# schema 1, as attune wrote it before runs existed
SCHEMA_1 = """
CREATE TABLE llm_calls (
    id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, workflow TEXT NOT NULL, stage TEXT NOT NULL,
    task_type TEXT NOT NULL, provider TEXT NOT NULL, tier TEXT NOT NULL, model_id TEXT NOT NULL,
    success INTEGER NOT NULL, error_type TEXT, latency_ms REAL NOT NULL, tokens_input INTEGER NOT NULL,
    tokens_output INTEGER NOT NULL, cost REAL NOT NULL);
CREATE INDEX llm_calls_workflow_stage_ts ON llm_calls (workflow, stage, ts_ms);
CREATE TABLE llm_calls_hourly (
    workflow TEXT NOT NULL, stage TEXT NOT NULL, bucket_ms INTEGER NOT NULL, model_id TEXT NOT NULL,
    provider TEXT NOT NULL, tier TEXT NOT NULL, calls INTEGER NOT NULL, successes INTEGER NOT NULL,
    latency_ms_sum REAL NOT NULL, cost_sum REAL NOT NULL, tokens_input_sum INTEGER NOT NULL,
    tokens_output_sum INTEGER NOT NULL, PRIMARY KEY (workflow, stage, bucket_ms, model_id, provider, tier))
    WITHOUT ROWID;
CREATE TRIGGER llm_calls_rollup AFTER INSERT ON llm_calls BEGIN
    INSERT INTO llm_calls_hourly VALUES (NEW.workflow, NEW.stage, NEW.ts_ms - (NEW.ts_ms % 3600000),
        NEW.model_id, NEW.provider, NEW.tier, 1, NEW.success, NEW.latency_ms, NEW.cost, NEW.tokens_input,
        NEW.tokens_output)
    ON CONFLICT DO UPDATE SET calls = calls + 1;
END;
PRAGMA user_version = 1;
"""


def store(tmp_path: Path, **kwargs: object) -> TelemetryStore:
    return TelemetryStore(tmp_path / "telemetry.db", **kwargs)  # type: ignore[arg-type]


def run_all_stages(s: TelemetryStore, task: str, mode: str, factor: float, path: str = "src/a.py") -> str:
    estimate = estimate_task(task, lines=1_000, mode=mode, strategy=STRATEGY)
    run_id = s.start_run(task, path, 1_000, mode, "a reason", estimate)
    for index, stage in enumerate(estimate.stages):
        s.record_stage(
            run_id,
            index,
            stage.stage,
            stage.model,
            input_tokens=round(stage.input_tokens * factor),
            output_tokens=round(stage.output_tokens * factor),
            cache_tokens=5,
            cost=stage.cost * factor,
            api_equivalent_cost=stage.api_cost * factor,
            elapsed_ms=1_500.0,
            status="ok",
        )
    s.finish_run(run_id, "ok")
    return run_id


def test_a_run_keeps_its_estimate_and_what_it_used(tmp_path: Path) -> None:
    s = store(tmp_path)
    run_id = run_all_stages(s, "review", "api", 1.2)
    assert len(run_id) == 32 and int(run_id, 16) >= 0
    run = s.get_run(run_id)
    assert run is not None and run.status == "ok" and run.task == "review" and run.path == "src/a.py"
    assert run.lines == 1_000 and run.mode == "api" and run.reason == "a reason" and run.finished_at is not None
    estimate = estimate_task("review", lines=1_000, mode="api", strategy=STRATEGY)
    assert run.estimated_cost == pytest.approx(estimate.total_cost)
    assert run.actual_cost == pytest.approx(estimate.total_cost * 1.2)
    assert run.error_pct == pytest.approx(20.0)
    doc = run.to_dict()
    assert doc["error_pct"] == 20.0 and doc["status"] == "ok"
    assert doc["estimate"]["input_tokens"] == sum(st.input_tokens for st in estimate.stages)
    assert doc["actual"]["cache_tokens"] == 10
    assert [st["stage"] for st in doc["stages"]] == ["scan", "review"]
    first = doc["stages"][0]
    assert first["model"] == "claude-haiku-4-5" and first["status"] == "ok"
    assert first["estimate"]["input_tokens"] == estimate.stages[0].input_tokens
    assert first["actual"]["input_tokens"] == round(estimate.stages[0].input_tokens * 1.2)
    assert first["error_pct"] == 20.0 and first["actual"]["elapsed_ms"] == 1_500.0


def test_a_subscription_run_is_compared_in_api_equivalent_dollars(tmp_path: Path) -> None:
    s = store(tmp_path)
    run = s.get_run(run_all_stages(s, "explain", "subscription", 0.5))
    assert run is not None and run.estimated_cost == 0 and run.actual_cost == 0
    assert run.estimated_api_cost > 0 and run.error_pct == pytest.approx(-50.0)


def test_a_run_whose_process_died_stays_running(tmp_path: Path) -> None:
    s = store(tmp_path)
    estimate = estimate_task("tests", lines=50, mode="api", strategy=STRATEGY)
    run_id = s.start_run("tests", "b.py", 50, "api", "small", estimate)
    s.close()
    run = store(tmp_path).get_run(run_id)
    assert run is not None and run.status == "running" and run.finished_at is None
    assert [st.status for st in run.stages] == ["pending", "pending"]
    assert run.actual_cost is None and run.error_pct is None


def test_a_failed_run_is_compared_over_the_stages_it_ran(tmp_path: Path) -> None:
    s = store(tmp_path)
    estimate = estimate_task("document", lines=500, mode="api", strategy=STRATEGY)
    run_id = s.start_run("document", "c.py", 500, "api", "r", estimate)
    first = estimate.stages[0]
    s.record_stage(
        run_id, 0, first.stage, first.model, input_tokens=first.input_tokens, output_tokens=first.output_tokens,
        cost=first.cost * 1.1, api_equivalent_cost=first.api_cost * 1.1, elapsed_ms=10.0, status="ok",
    )  # fmt: skip
    s.record_stage(
        run_id, 1, "write", "claude-sonnet-4-6", input_tokens=0, output_tokens=0, cost=0.0,
        api_equivalent_cost=0.0, elapsed_ms=5.0, status="failed",
    )  # fmt: skip
    s.finish_run(run_id, "failed", "ProviderError")
    run = s.get_run(run_id)
    assert run is not None and run.status == "failed" and run.error_type == "ProviderError"
    assert [st.status for st in run.stages] == ["ok", "failed", "pending", "pending"]
    assert run.error_pct is not None
    assert median_error_by_task([run]) == {}  # only ok runs make the median


def test_listing_filters_orders_and_limits(tmp_path: Path) -> None:
    s = store(tmp_path)
    ids = [
        run_all_stages(s, "document", "api", 1.1, "a.py"),
        run_all_stages(s, "review", "api", 0.9, "a.py"),
        run_all_stages(s, "document", "api", 1.3, "b.py"),
    ]
    assert [r.run_id for r in s.list_runs()] == ids[::-1]
    assert [r.run_id for r in s.list_runs(path="a.py")] == ids[1::-1]
    assert [r.run_id for r in s.list_runs(task="document")] == [ids[2], ids[0]]
    assert [r.run_id for r in s.list_runs(path="b.py", task="review")] == []
    assert len(s.list_runs(limit=1)) == 1
    with pytest.raises(ValueError, match="limit"):
        s.list_runs(limit=0)
    assert median_error_by_task(s.list_runs()) == {
        "document": {"median_error_pct": 20.0, "runs": 2},
        "review": {"median_error_pct": -10.0, "runs": 1},
    }


def test_a_run_is_found_by_the_start_of_its_id(tmp_path: Path) -> None:
    s = store(tmp_path)
    run_id = run_all_stages(s, "explain", "api", 1.0)
    found = s.get_run(run_id[:6])
    assert found is not None and found.run_id == run_id
    assert s.get_run("ffffffffffffffffffffffffffffffff") is None
    assert s.get_run("abc") is None


def test_bad_stage_and_finish_calls_are_refused(tmp_path: Path) -> None:
    s = store(tmp_path)
    with pytest.raises(KeyError, match="no run"):
        s.finish_run("0" * 32, "ok")
    with pytest.raises(KeyError, match="no run"):
        s.record_stage("0" * 32, 0, "x", "m", input_tokens=1, output_tokens=1, cost=0, api_equivalent_cost=0,
                       elapsed_ms=1, status="ok")  # fmt: skip
    estimate = estimate_task("explain", lines=10, mode="api", strategy=STRATEGY)
    run_id = s.start_run("explain", "a.py", 10, "api", "r", estimate)
    with pytest.raises(ValueError, match="status"):
        s.finish_run(run_id, "running")
    with pytest.raises(ValueError, match="input_tokens"):
        s.record_stage(run_id, 0, "map", "m", input_tokens=-1, output_tokens=1, cost=0, api_equivalent_cost=0,
                       elapsed_ms=1, status="ok")  # fmt: skip
    with pytest.raises(ValueError, match="status"):
        s.record_stage(run_id, 0, "map", "m", input_tokens=1, output_tokens=1, cost=0, api_equivalent_cost=0,
                       elapsed_ms=1, status="pending")  # fmt: skip


def test_calls_carry_their_run_id(tmp_path: Path) -> None:
    s = store(tmp_path)
    positional = LLMCallRecord("docs", "outline", "outline", "anthropic", "cheap", "claude-haiku-4-5", True)
    assert positional.run_id is None
    linked = LLMCallRecord(
        workflow="docs", stage="write", provider="anthropic", tier="capable", model_id="claude-sonnet-4-6",
        success=True, run_id="ab" * 16,
    )  # fmt: skip
    s.record_calls([positional, linked])
    by_stage = {c.stage: c.run_id for c in s.recent_calls("docs")}
    assert by_stage == {"outline": None, "write": "ab" * 16}
    with pytest.raises(ValueError, match="run_id"):
        LLMCallRecord("docs", "x", "t", "anthropic", "cheap", "m", True, run_id="")


def test_a_schema_1_file_is_migrated_in_place_keeping_its_calls(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA_1)
        conn.execute(
            "INSERT INTO llm_calls (ts_ms, workflow, stage, task_type, provider, tier, model_id, success, "
            "error_type, latency_ms, tokens_input, tokens_output, cost) "
            "VALUES (strftime('%s','now') * 1000, 'docs', 'outline', 't', 'anthropic', 'cheap', "
            "'claude-haiku-4-5', 1, NULL, 10, 100, 20, 0.001)"
        )
    conn.close()
    old_reader = TelemetryStore(path, read_only=True)
    assert [c.run_id for c in old_reader.recent_calls("docs")] == [None]  # read as it is
    assert old_reader.list_runs() == [] and old_reader.get_run("abcd") is None
    old_reader.close()

    reader = TelemetryStore(path, read_only=True)
    assert reader.list_runs() == []
    s = TelemetryStore(path)
    assert s.recent_calls("docs")[0].tokens_input == 100
    run_id = run_all_stages(s, "review", "api", 1.0)
    assert s.get_run(run_id) is not None
    s.close()
    assert [r.run_id for r in reader.list_runs()] == [run_id]  # a reader opened before sees the migration
    reader.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_a_newer_database_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(
        TelemetryStoreError, match=f"schema version {SCHEMA_VERSION + 1} is newer than this attune understands"
    ):
        TelemetryStore(path)
    with pytest.raises(TelemetryStoreError, match="newer"):
        TelemetryStore(path, read_only=True).list_runs()


def test_read_only_listing_creates_nothing(tmp_path: Path) -> None:
    reader = TelemetryStore(tmp_path / "nothing" / "telemetry.db", read_only=True)
    assert reader.list_runs() == [] and reader.get_run("abcdef") is None
    assert not (tmp_path / "nothing").exists()
    with pytest.raises(TelemetryStoreError, match="read-only"):
        reader.start_run(
            "review", "a.py", 1, "api", "r", estimate_task("review", lines=1, mode="api", strategy=STRATEGY)
        )


def test_stores_opening_a_schema_1_file_at_once_migrate_it_once(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "telemetry.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA_1)
    conn.close()
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def open_it() -> None:
        try:
            start.wait()
            TelemetryStore(path).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        columns = [row[1] for row in conn.execute("PRAGMA table_info(llm_calls)")]
    conn.close()
    assert columns.count("run_id") == 1
