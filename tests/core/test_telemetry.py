"""What is the SQLite store's own (the suite every store passes is
test_telemetry_backends.py), and the checks a call record makes when it is built."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from attune.models import LLMCallRecord, TelemetryBackend, TelemetryStore, get_telemetry_store
from attune.models.telemetry.records import TelemetryStoreError
from support.telemetry_calls import call


@pytest.fixture
def store(tmp_path: Path) -> TelemetryStore:
    s = TelemetryStore(tmp_path / "telemetry.db")
    yield s
    s.close()


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
    assert indexed == {"llm_calls_workflow_stage_model_ts"}  # one index: inserts stay fast


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
