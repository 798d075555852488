"""Store URLs as SQLAlchemy reads them, read-only stores (displays create no file), and
the telemetry store's list of workflows."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from attune.models import CircuitBreaker, LLMCallRecord, TelemetryStore, get_circuit_breaker, get_telemetry_store
from attune.models.breaker.circuit_breaker import default_store_url
from attune.models.breaker.stores import open_store, sqlite_path_from_url
from attune.models.telemetry.records import TelemetryStoreError

# ---- sqlite:// URLs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, path",
    [
        ("sqlite:///breaker.db", "breaker.db"),
        ("sqlite:///state/breaker.db", "state/breaker.db"),
        ("sqlite:////abs/breaker.db", "/abs/breaker.db"),
        ("sqlite:////abs/my%20state/breaker.db", "/abs/my state/breaker.db"),
        ("SQLite:///breaker.db", "breaker.db"),
    ],
)
def test_sqlite_url_paths_follow_sqlalchemy(url: str, path: str) -> None:
    assert sqlite_path_from_url(url) == path


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite:////", "sqlite:///state/", "sqlite://breaker.db", "sqlite://"])
def test_a_sqlite_url_without_a_file_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"sqlite:///"):
        open_store(url)


def test_a_relative_url_is_a_file_in_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    breaker = CircuitBreaker(store="sqlite:///rel.db")
    breaker.record_failure("openai")
    assert (tmp_path / "rel.db").is_file()
    assert breaker.store_health()["url"] == f"sqlite:///{tmp_path}/rel.db"  # sqlite:////abs/rel.db
    monkeypatch.chdir(tmp_path.parent)  # the store stays where it was opened
    breaker.record_failure("openai")
    assert CircuitBreaker(store=f"sqlite:///{tmp_path}/rel.db").get_state("openai").failure_count == 2


def test_the_default_url_is_absolute_and_round_trips(attune_home: Path) -> None:
    url = default_store_url()
    assert url.startswith("sqlite:////")
    assert Path(sqlite_path_from_url(url)) == (attune_home / "state" / "breaker.db").resolve()


# ---- read-only breaker store -----------------------------------------------------------------


def test_a_read_only_breaker_creates_nothing_and_reads_as_closed(tmp_path: Path) -> None:
    tmp_path = tmp_path / "here"
    tmp_path.mkdir()
    url = f"sqlite:///{tmp_path}/state/breaker.db"
    breaker = CircuitBreaker(store=open_store(url, read_only=True))
    assert breaker.get_status() == {}
    assert breaker.peek_state("anthropic", "cheap") == "closed"
    assert breaker.is_available("anthropic", "cheap")
    assert breaker.store_health()["reachable"] is True
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_breaker_sees_what_writers_record(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/breaker.db"
    reader = CircuitBreaker(store=open_store(url, read_only=True))
    assert reader.get_status() == {}  # asked before the file exists
    writer = CircuitBreaker(store=url)
    for _ in range(writer.failure_threshold):
        writer.record_failure("anthropic", "cheap")
    assert reader.peek_state("anthropic", "cheap") == "open"
    assert reader.get_status()["anthropic:cheap"]["failure_count"] == writer.failure_threshold
    assert reader.change_token() == writer.change_token()


def test_a_read_only_breaker_leaves_a_corrupt_file_alone(tmp_path: Path) -> None:
    tmp_path = tmp_path / "here"
    tmp_path.mkdir()
    db = tmp_path / "breaker.db"
    db.write_bytes(b"notes, not a database" * 50)
    reader = CircuitBreaker(store=open_store(f"sqlite:///{db}", read_only=True))
    health = reader.store_health()
    assert health["reachable"] is False and "not a database" in health["error"]
    assert [p.name for p in tmp_path.iterdir()] == ["breaker.db"]


def test_the_shared_read_only_breaker_reads_the_shared_store(attune_home: Path) -> None:
    reader = get_circuit_breaker(read_only=True)
    assert reader is get_circuit_breaker(read_only=True)
    assert reader.get_status() == {}
    assert list(attune_home.iterdir()) == []
    writer = get_circuit_breaker()
    assert writer is not reader
    writer.record_failure("openai")
    assert list(reader.get_status()) == ["openai"]


# ---- read-only telemetry store ---------------------------------------------------------------


def record(workflow: str, when: datetime, stage: str = "write") -> LLMCallRecord:
    return LLMCallRecord(
        workflow, stage, "summarize", "anthropic", "cheap", "claude-haiku-4-5", success=True, timestamp=when
    )


def test_a_read_only_telemetry_store_creates_nothing_and_answers_empty(tmp_path: Path) -> None:
    tmp_path = tmp_path / "here"
    tmp_path.mkdir()
    path = tmp_path / "state" / "telemetry.db"
    store = TelemetryStore(path, read_only=True)
    assert store.workflows() == []
    assert store.aggregate_by_model("docs") == []
    assert store.recent_calls("docs") == []
    with pytest.raises(TelemetryStoreError, match="read-only"):
        store.record_call(record("docs", datetime.now(UTC)))
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_telemetry_store_reads_what_is_written(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.db"
    reader = TelemetryStore(path, read_only=True)
    assert reader.workflows() == []
    writer = TelemetryStore(path)
    writer.record_calls([record("docs", datetime.now(UTC))] * 3)
    assert reader.workflows() == [("docs", 3)]
    assert [a.calls for a in reader.aggregate_by_model("docs")] == [3]
    assert len(reader.recent_calls("docs")) == 3


def test_a_read_only_telemetry_store_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.db"
    path.write_bytes(b"garbage" * 200)
    with pytest.raises(TelemetryStoreError, match="not a usable telemetry database"):
        TelemetryStore(path, read_only=True).workflows()
    assert path.read_bytes() == b"garbage" * 200


def test_the_shared_read_only_telemetry_store_creates_no_folder(attune_home: Path) -> None:
    store = get_telemetry_store(read_only=True)
    assert store.workflows() == [] and store is get_telemetry_store(read_only=True)
    assert list(attune_home.iterdir()) == []


# ---- TelemetryStore.workflows ----------------------------------------------------------------


def test_workflows_counts_calls_in_the_window_most_first(tmp_path: Path) -> None:
    store = TelemetryStore(tmp_path / "telemetry.db", retention_days=None)
    now = datetime.now(UTC)
    store.record_calls(
        [record("docs", now - timedelta(minutes=i)) for i in range(5)]
        + [record("docs", now - timedelta(hours=30), stage="review")]
        + [record("chat", now - timedelta(minutes=2))] * 2
        + [record("bugs", now - timedelta(minutes=3))] * 2
        + [record("old", now - timedelta(days=20))]
    )
    assert store.workflows() == [("docs", 6), ("bugs", 2), ("chat", 2)]
    assert store.workflows(since=now - timedelta(hours=1)) == [("docs", 5), ("bugs", 2), ("chat", 2)]
    assert store.workflows(since=now - timedelta(days=30), limit=2) == [("docs", 6), ("bugs", 2)]
    assert store.workflows(since=now - timedelta(days=30), until=now - timedelta(days=1)) == [("docs", 1), ("old", 1)]


def test_workflows_matches_counting_every_row_for_any_window(tmp_path: Path) -> None:
    """Windows that start and end inside hours: the rollup and the edges must add up."""
    store = TelemetryStore(tmp_path / "telemetry.db", retention_days=None)
    now = datetime.now(UTC)
    rng = random.Random(7)
    calls = [
        record(rng.choice(["a", "b", "c"]), now - timedelta(minutes=rng.randrange(0, 60 * 72)), rng.choice("xyz"))
        for _ in range(600)
    ]
    store.record_calls(calls)
    for _ in range(40):
        since = now - timedelta(minutes=rng.randrange(0, 60 * 80))
        until = None if rng.random() < 0.3 else since + timedelta(minutes=rng.randrange(0, 60 * 40))
        expected: dict[str, int] = {}
        for c in calls:
            if c.timestamp >= since and (until is None or c.timestamp < until):
                expected[c.workflow] = expected.get(c.workflow, 0) + 1
        want = sorted(expected.items(), key=lambda item: (-item[1], item[0]))
        assert store.workflows(since=since, until=until) == want, (since, until)
