"""The circuit breaker's state machine, the same on every store (memory, SQLite, Redis).

Time moves through an injected clock; nothing here sleeps."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest

from attune.models import CircuitBreaker, CircuitBreakerState, get_circuit_breaker
from support.manual_clock import ManualClock

T0 = 1_700_000_000.0


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/breaker.db"
    return request.getfixturevalue("redis_url")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_breaker(store_url: str, clock: ManualClock):  # type: ignore[no-untyped-def]
    made: list[CircuitBreaker] = []

    def make(**kwargs) -> CircuitBreaker:  # type: ignore[no-untyped-def]
        kwargs.setdefault("store", store_url)
        kwargs.setdefault("clock", clock)
        breaker = CircuitBreaker(**kwargs)
        made.append(breaker)
        return breaker

    yield make
    for breaker in made:
        breaker.close()


def trip(cb: CircuitBreaker, provider: str = "anthropic", tier: str | None = "premium", n: int | None = None) -> None:
    for _ in range(cb.failure_threshold if n is None else n):
        cb.record_failure(provider, tier, error_type="server")


def test_opens_at_the_threshold_and_not_before(make_breaker) -> None:
    cb = make_breaker(failure_threshold=3)
    trip(cb, n=2)
    assert cb.peek_state("anthropic", "premium") == "closed"
    assert cb.is_available("anthropic", "premium")
    cb.record_failure("anthropic", "premium")
    assert cb.peek_state("anthropic", "premium") == "open"
    assert not cb.is_available("anthropic", "premium")


def test_open_premium_does_not_block_cheap_or_the_bare_provider(make_breaker) -> None:
    cb = make_breaker()
    trip(cb, "anthropic", "premium")
    assert not cb.is_available("anthropic", "premium")
    assert cb.is_available("anthropic", "cheap")
    assert cb.is_available("anthropic")
    assert cb.peek_state("anthropic", "cheap") == "closed"


def test_success_clears_the_count(make_breaker) -> None:
    cb = make_breaker(failure_threshold=3)
    trip(cb, n=2)
    cb.record_success("anthropic", "premium")
    assert cb.get_status()["anthropic:premium"]["failure_count"] == 0
    trip(cb, n=2)  # 2 consecutive failures again: still under the threshold
    assert cb.peek_state("anthropic", "premium") == "closed"


def test_open_becomes_half_open_after_the_timeout(make_breaker, clock: ManualClock) -> None:
    cb = make_breaker(recovery_timeout_seconds=30)
    trip(cb)
    clock.advance(29.9)
    assert cb.peek_state("anthropic", "premium") == "open"
    assert not cb.is_available("anthropic", "premium")
    clock.advance(0.1)
    assert cb.peek_state("anthropic", "premium") == "half_open"


def test_half_open_grants_exactly_half_open_calls_permits(make_breaker, clock: ManualClock) -> None:
    cb = make_breaker(half_open_calls=2)
    trip(cb)
    clock.advance(60)
    answers = [cb.is_available("anthropic", "premium") for _ in range(5)]
    assert answers == [True, True, False, False, False]


def test_peek_state_takes_no_permit(make_breaker, clock: ManualClock) -> None:
    cb = make_breaker()
    trip(cb)
    clock.advance(60)
    for _ in range(3):
        assert cb.peek_state("anthropic", "premium") == "half_open"
    assert cb.is_available("anthropic", "premium")  # the permit was still there


def test_successful_probe_closes(make_breaker, clock: ManualClock) -> None:
    cb = make_breaker()
    trip(cb)
    clock.advance(60)
    assert cb.is_available("anthropic", "premium")
    cb.record_success("anthropic", "premium")
    assert cb.peek_state("anthropic", "premium") == "closed"
    assert [cb.is_available("anthropic", "premium") for _ in range(3)] == [True] * 3
    status = cb.get_status()["anthropic:premium"]
    assert status["failure_count"] == 0 and status["opened_at"] is None and status["retry_at"] is None


def test_failed_probe_reopens_for_a_full_timeout(make_breaker, clock: ManualClock) -> None:
    cb = make_breaker(recovery_timeout_seconds=60)
    trip(cb)
    clock.advance(100)  # well past the first timeout
    assert cb.is_available("anthropic", "premium")
    cb.record_failure("anthropic", "premium", error_type="overloaded")
    assert cb.peek_state("anthropic", "premium") == "open"
    clock.advance(59)
    assert not cb.is_available("anthropic", "premium")
    clock.advance(1)
    assert cb.is_available("anthropic", "premium")


def test_late_failure_while_open_does_not_extend_the_timeout(make_breaker, clock: ManualClock) -> None:
    cb = make_breaker(recovery_timeout_seconds=60)
    trip(cb)
    clock.advance(30)
    cb.record_failure("anthropic", "premium")  # a call that started before the breaker opened
    clock.advance(30)
    assert cb.peek_state("anthropic", "premium") == "half_open"


def test_a_probe_that_never_reports_frees_its_permit_after_a_timeout(make_breaker, clock: ManualClock) -> None:
    cb = make_breaker(recovery_timeout_seconds=60)
    trip(cb)
    clock.advance(60)
    assert cb.is_available("anthropic", "premium")  # the prober then crashes
    clock.advance(59)
    assert not cb.is_available("anthropic", "premium")
    clock.advance(1)
    assert cb.is_available("anthropic", "premium")
    assert not cb.is_available("anthropic", "premium")


def test_reset_one_key(make_breaker) -> None:
    cb = make_breaker()
    trip(cb, "anthropic", "premium")
    trip(cb, "anthropic", "cheap")
    assert cb.reset("anthropic", "premium") == ["anthropic:premium"]
    assert cb.is_available("anthropic", "premium")
    assert not cb.is_available("anthropic", "cheap")


def test_reset_provider_resets_every_tier_of_it_only(make_breaker) -> None:
    cb = make_breaker()
    trip(cb, "anthropic", "premium")
    trip(cb, "anthropic", "cheap")
    trip(cb, "anthropic", None)
    trip(cb, "anthropic-eu", "cheap")  # shares a prefix but is another provider
    trip(cb, "openai", "cheap")
    assert cb.reset("anthropic") == ["anthropic", "anthropic:cheap", "anthropic:premium"]
    assert set(cb.get_status()) == {"anthropic-eu:cheap", "openai:cheap"}


def test_reset_everything(make_breaker) -> None:
    cb = make_breaker()
    trip(cb, "anthropic", "premium")
    trip(cb, "openai", None)
    assert cb.reset() == ["anthropic:premium", "openai"]
    assert cb.get_status() == {}
    assert cb.reset() == []


def test_reset_with_a_tier_but_no_provider_is_refused(make_breaker) -> None:
    with pytest.raises(ValueError, match="provider"):
        make_breaker().reset(tier="premium")


def test_get_status_format(make_breaker, clock: ManualClock) -> None:
    cb = make_breaker(recovery_timeout_seconds=60)
    trip(cb, "anthropic", "premium")
    cb.record_failure("anthropic", "cheap", error_type="timeout")
    status = cb.get_status()
    assert list(status) == ["anthropic:cheap", "anthropic:premium"]
    premium = status["anthropic:premium"]
    assert {"state", "failure_count", "is_open", "last_failure", "opened_at", "retry_at"} <= set(premium)
    assert premium["state"] == "open" and premium["is_open"] is True
    assert premium["failure_count"] == 5 and premium["last_error_type"] == "server"
    opened = datetime.fromisoformat(premium["opened_at"])
    retry = datetime.fromisoformat(premium["retry_at"])
    assert opened.utcoffset().total_seconds() == 0
    assert opened.timestamp() == pytest.approx(T0)
    assert (retry - opened).total_seconds() == pytest.approx(60)
    cheap = status["anthropic:cheap"]
    assert cheap == {
        "state": "closed",
        "failure_count": 1,
        "is_open": False,
        "last_failure": premium["last_failure"],
        "opened_at": None,
        "retry_at": None,
        "last_error_type": "timeout",
    }
    clock.advance(60)
    assert cb.get_status()["anthropic:premium"]["state"] == "half_open"


def test_change_token_changes_on_every_write_and_not_on_reads(make_breaker, clock: ManualClock) -> None:
    cb = make_breaker()
    t0 = cb.change_token()
    cb.is_available("anthropic", "premium")
    cb.peek_state("anthropic", "premium")
    cb.get_status()
    cb.record_success("anthropic", "premium")  # nothing to clear: no write
    assert cb.change_token() == t0
    seen = {t0}
    for step in (
        lambda: cb.record_failure("anthropic", "premium"),
        lambda: trip(cb),
        lambda: (clock.advance(60), cb.is_available("anthropic", "premium")),
        lambda: cb.record_success("anthropic", "premium"),
        lambda: cb.reset(),
    ):
        step()
        token = cb.change_token()
        assert token not in seen
        seen.add(token)


def test_16_threads_racing_in_half_open_get_exactly_one_probe(make_breaker, clock: ManualClock) -> None:
    cb = make_breaker()
    trip(cb)
    clock.advance(60)
    for _ in range(3):  # warm up each thread's connection outside the race
        cb.peek_state("anthropic", "premium")
    barrier = threading.Barrier(16)
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        cb.peek_state("anthropic", "premium")
        barrier.wait()
        answer = cb.is_available("anthropic", "premium")
        with lock:
            results.append(answer)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 16
    assert results.count(True) == 1


def test_instances_on_one_shared_store_share_state(make_breaker, store_url: str) -> None:
    writer, reader = make_breaker(), make_breaker()
    trip(writer)
    shared = store_url != "memory://"  # memory:// is per instance by design
    assert reader.peek_state("anthropic", "premium") == ("open" if shared else "closed")
    assert reader.is_available("anthropic", "premium") is not shared


def test_bad_policies_are_refused() -> None:
    for kwargs in (
        {"failure_threshold": 0},
        {"recovery_timeout_seconds": 0},
        {"recovery_timeout_seconds": float("nan")},
        {"half_open_calls": 0},
        {"failure_threshold": 2.5},
    ):
        with pytest.raises(ValueError):
            CircuitBreaker(**kwargs)


def test_bad_keys_are_refused() -> None:
    cb = CircuitBreaker()
    with pytest.raises(ValueError):
        cb.is_available("")
    with pytest.raises(ValueError):
        cb.is_available("anthropic:premium")  # the tier goes in its own argument


def test_bad_store_urls_are_refused_with_the_supported_forms() -> None:
    for url in ("postgres://x", "breaker.db", "sqlite://relative.db"):
        with pytest.raises(ValueError, match="sqlite:///"):
            CircuitBreaker(store=url)


def test_default_breaker_is_per_process_memory() -> None:
    a, b = CircuitBreaker(), CircuitBreaker()
    trip(a)
    assert a.store.url == "memory://"
    assert b.is_available("anthropic", "premium")


def test_state_is_a_dataclass_with_the_seed_fields() -> None:
    cb = CircuitBreaker()
    trip(cb)
    state = cb.get_state("anthropic", "premium")
    assert isinstance(state, CircuitBreakerState)
    assert state.failure_count == 5 and state.is_open and state.opened_at is not None
    assert state.last_failure is not None
    assert cb.get_state("anthropic", "cheap") == CircuitBreakerState(key="anthropic:cheap")


# --- SQLite: the state survives a restart (the seeds' "per-process, lost on restart")


def test_sqlite_state_survives_a_new_breaker_instance(tmp_path: Path, clock: ManualClock) -> None:
    url = f"sqlite:///{tmp_path}/breaker.db"
    first = CircuitBreaker(store=url, clock=clock)
    trip(first)
    first.close()
    again = CircuitBreaker(store=url, clock=clock)
    assert again.peek_state("anthropic", "premium") == "open"
    assert not again.is_available("anthropic", "premium")
    assert again.get_status()["anthropic:premium"]["failure_count"] == 5


def test_sqlite_corrupt_file_is_kept_aside_and_replaced(tmp_path: Path, caplog) -> None:
    db = tmp_path / "breaker.db"
    db.write_bytes(b"this is not a database, it is a note the user cares about" * 100)
    cb = CircuitBreaker(store=f"sqlite:///{db}")
    trip(cb)
    assert not cb.is_available("anthropic", "premium")
    assert cb.store_health()["reachable"]
    kept = list(tmp_path.glob("breaker.db.corrupt-*"))
    assert [p.read_bytes()[:20] for p in kept if not p.name.endswith(("-wal", "-shm"))] == [b"this is not a databa"]
    assert any("corrupt" in r.getMessage() for r in caplog.records)


# --- the shared breaker


def test_get_circuit_breaker_uses_sqlite_under_attune_home(attune_home: Path) -> None:
    cb = get_circuit_breaker()
    assert cb is get_circuit_breaker()
    trip(cb)
    assert (attune_home / "state" / "breaker.db").exists()
    assert cb.store.url.endswith(str(attune_home / "state" / "breaker.db"))


def test_get_circuit_breaker_follows_attune_home(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ATTUNE_HOME", str(tmp_path / "one"))
    one = get_circuit_breaker()
    trip(one)
    monkeypatch.setenv("ATTUNE_HOME", str(tmp_path / "two"))
    two = get_circuit_breaker()
    assert two is not one
    assert two.is_available("anthropic", "premium")


def test_attune_breaker_url_overrides_the_store(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ATTUNE_BREAKER_URL", f"sqlite:///{tmp_path}/elsewhere.db")
    trip(get_circuit_breaker())
    assert (tmp_path / "elsewhere.db").exists()
    monkeypatch.setenv("ATTUNE_BREAKER_URL", "ftp://nope")
    with pytest.raises(ValueError, match="ATTUNE_BREAKER_URL"):
        get_circuit_breaker()
