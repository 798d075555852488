"""The breaker across processes: real, separately started (spawned) Python processes
sharing one SQLite file or one Redis."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from attune.models import CircuitBreaker

T0 = 1_700_000_000.0
PROCESSES = 6
ROUNDS = 4
# Each round is 1000 s after the last: the previous round's probe never reported back,
# so its permit expires and exactly one new permit is up for grabs.
ROUND_GAP = 1000.0


def _race_worker(url: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    now = [T0]
    cb = CircuitBreaker(store=url, clock=lambda: now[0])
    cb.peek_state("anthropic", "premium")  # connect before the race, so the race is on the permit
    for round_no in range(ROUNDS):
        now[0] = T0 + 60 + round_no * ROUND_GAP
        barrier.wait(timeout=60)
        results.put((round_no, cb.is_available("anthropic", "premium")))


def _record_failure_worker(url: str) -> None:
    CircuitBreaker(store=url).record_failure("anthropic", "cheap", error_type="server")


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/breaker.db"
    return request.getfixturevalue("redis_url")


def test_six_processes_racing_in_half_open_get_exactly_one_probe(shared_url: str) -> None:
    opener = CircuitBreaker(store=shared_url, clock=lambda: T0)
    for _ in range(5):
        opener.record_failure("anthropic", "premium")
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [ctx.Process(target=_race_worker, args=(shared_url, barrier, results)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    answers = [results.get(timeout=90) for _ in range(PROCESSES * ROUNDS)]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    for round_no in range(ROUNDS):
        granted = [ok for r, ok in answers if r == round_no]
        assert len(granted) == PROCESSES
        assert granted.count(True) == 1, f"round {round_no}: {granted}"


def test_change_token_sees_a_write_by_another_process(shared_url: str) -> None:
    cb = CircuitBreaker(store=shared_url)
    before = cb.change_token()
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=_record_failure_worker, args=(shared_url,))
    p.start()
    p.join(timeout=60)
    assert p.exitcode == 0
    assert cb.change_token() != before
    assert cb.get_status()["anthropic:cheap"]["failure_count"] == 1


def _open_fresh_db_worker(url: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    barrier.wait(timeout=60)
    cb = CircuitBreaker(store=url)
    cb.record_failure("anthropic", "cheap")
    results.put(cb.store_health()["reachable"])


def test_processes_creating_the_sqlite_file_at_once_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new/breaker.db"
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=_open_fresh_db_worker, args=(url, barrier, results)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    reachable = [results.get(timeout=90) for _ in range(PROCESSES)]
    for p in procs:
        p.join(timeout=30)
    assert reachable == [True] * PROCESSES
    status = CircuitBreaker(store=url).get_status()
    assert status["anthropic:cheap"]["failure_count"] == PROCESSES  # no write lost
