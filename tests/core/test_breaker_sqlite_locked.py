"""A SQLite breaker file that another process holds locked (``BEGIN EXCLUSIVE``): the
breaker keeps answering, reads the shared state where SQLite allows it, falls back to
its process-local breaker for what it cannot write, and comes back when the lock goes.

The lock is held by a real separate process. Calls run in a thread joined with a
deadline many times longer than the calls should take: a hang guard, not a speed
measurement (``benchmarks/bench_breaker.py --locked`` measures the speed)."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from attune.models import CircuitBreaker
from attune.models.breaker.stores.sqlite import SQLiteBreakerStore
from support.manual_clock import ManualClock

BREAKER_LOGGER = "attune.models.breaker.circuit_breaker"
HANG_GUARD_SECONDS = 10.0

_LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[2] != "keep":
    conn.execute(f"PRAGMA journal_mode = {sys.argv[2]}").fetchone()
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@contextmanager
def locked(path: Path, journal_mode: str = "keep") -> Iterator[None]:
    """Another process holds ``BEGIN EXCLUSIVE`` on ``path`` until the block ends."""
    locker = subprocess.Popen(
        [sys.executable, "-c", _LOCKER, str(path), journal_mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        yield
    finally:
        assert locker.stdin is not None
        locker.stdin.write("\n")
        locker.stdin.flush()
        locker.wait(timeout=30)


def answered(calls: Callable[[], Any]) -> Any:
    """The calls' result; fails if they have not all answered within the hang guard."""
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(calls()), daemon=True)
    worker.start()
    worker.join(HANG_GUARD_SECONDS)
    assert not worker.is_alive(), f"the breaker did not answer within {HANG_GUARD_SECONDS} s"
    return out[0]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A breaker file with state: anthropic:premium open since T0 (1000 s ago at the clock's start)."""
    path = tmp_path / "breaker.db"
    writer = CircuitBreaker(store=f"sqlite:///{path}", clock=ManualClock())
    for _ in range(5):
        writer.record_failure("anthropic", "premium", error_type="server")
    writer.close()
    return path


def test_a_new_process_reads_the_shared_state_while_another_holds_the_write_lock(db: Path) -> None:
    with locked(db):
        # A store opened now is what a new process gets: it must not need the lock to start.
        cb = CircuitBreaker(store=f"sqlite:///{db}", clock=ManualClock())
        assert answered(lambda: cb.peek_state("anthropic", "premium")) == "open"  # not the local fallback's "closed"
        assert answered(lambda: cb.store_health()["reachable"]) is True
        assert answered(lambda: cb.is_available("anthropic", "premium")) is False  # OPEN: a read decides
        assert answered(lambda: cb.get_status())["anthropic:premium"]["failure_count"] == 5


def test_writes_under_the_lock_fall_back_at_once_and_never_wait_one_after_another(db: Path) -> None:
    clock = ManualClock()
    clock.advance(120)  # past retry_at: is_available must take the half-open permit, a write
    cb = CircuitBreaker(store=f"sqlite:///{db}", clock=clock)
    cb.peek_state("anthropic", "premium")  # connected before the lock
    with locked(db):

        def twenty_writes() -> list[bool]:
            answers = []
            for _ in range(5):
                answers.append(cb.is_available("anthropic", "premium"))
                cb.record_failure("anthropic", "cheap", error_type="timeout")
                cb.record_success("anthropic", "premium")
                answers.append(cb.store_health()["reachable"])
            return answers

        # Before: every one of these waited the 5 s busy timeout (100 s in all).
        answers = answered(twenty_writes)
        assert answers[0] is True  # the shared permit could not be taken: the local breaker allows
        assert not any(answers[1::2])  # the store counts as unavailable throughout


def test_this_process_still_trips_its_own_breaker_while_the_file_is_locked(db: Path) -> None:
    cb = CircuitBreaker(store=f"sqlite:///{db}", failure_threshold=3)
    with locked(db):
        answered(lambda: [cb.record_failure("openai", error_type="server") for _ in range(3)])
        assert answered(lambda: cb.is_available("openai")) is False


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
def test_a_store_created_or_opened_while_locked_answers(tmp_path: Path, journal_mode: str) -> None:
    """A file another process has just created and locked (no schema yet), in WAL or with
    a rollback journal (which blocks readers too)."""
    path = tmp_path / "breaker.db"
    with locked(path, journal_mode):
        cb = CircuitBreaker(store=f"sqlite:///{path}")
        answers = answered(lambda: [cb.is_available("anthropic") for _ in range(10)])
        assert answers == [True] * 10
        assert cb.store_health()["reachable"] is False
        assert "locked" in cb.store_health()["error"]


def test_back_only_when_writes_get_through_so_a_held_lock_does_not_flap(
    db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=BREAKER_LOGGER)
    store = SQLiteBreakerStore(db, retry_interval=0)  # every call tries the file again
    cb = CircuitBreaker(store=store, clock=ManualClock())
    cb.peek_state("anthropic", "premium")
    with locked(db):
        answered(lambda: cb.record_failure("anthropic", "cheap"))
        # Reads would succeed under this lock (WAL); the store is still not back.
        assert answered(lambda: cb.peek_state("anthropic", "premium")) == "closed"
        assert answered(lambda: cb.store_health())["reachable"] is False
    assert cb.peek_state("anthropic", "premium") == "open"  # the shared state again
    assert cb.store_health()["reachable"] is True
    messages = [r.getMessage() for r in caplog.records if r.name == BREAKER_LOGGER]
    assert len(messages) == 2
    assert "unavailable" in messages[0] and "available again" in messages[1]


def test_status_reads_a_locked_file_and_fails_clearly_when_it_cannot(db: Path, attune_cmd, cli_env) -> None:
    url = f"sqlite:///{db}"

    def status() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*attune_cmd, "breaker", "status", "--store", url], env=cli_env, capture_output=True, text=True, timeout=60
        )

    with locked(db):  # WAL: readers are not blocked
        result = status()
    assert result.returncode == 0, result.stderr
    assert re.search(r"anthropic:premium +half_open +5 ", result.stdout), result.stdout
    with locked(db, "delete"):  # a rollback journal: readers are blocked too
        result = status()
    assert result.returncode == 1
    assert "unavailable" in result.stderr and "locked" in result.stderr
