"""The outbox in front of PostgreSQL: a real server stopped and started again, real
processes exiting with calls still waiting."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from attune.models import LLMCallRecord
from attune.models.telemetry.backend import get_telemetry_backend
from attune.models.telemetry.outbox import Outbox, OutboxedTelemetry, outbox_path
from attune.models.telemetry.postgres import PostgresTelemetryStore
from attune.models.telemetry.records import TelemetryStoreError
from support.postgres_server import PostgresServer

START = datetime.now(UTC) - timedelta(minutes=30)


def rec(i: int, workflow: str = "outbox") -> LLMCallRecord:
    # the latency carries the write order, so the order on the server can be read back
    return LLMCallRecord(
        workflow, "stage", "summarize", "anthropic", "cheap", "claude-haiku-4-5", True,
        latency_ms=float(i), cost=0.001, timestamp=START + timedelta(milliseconds=i),
    )  # fmt: skip


def server_order(url: str, workflow: str = "outbox") -> list[float]:
    """The latencies on the server in the order the server stored them (its ids)."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT latency_ms FROM llm_calls WHERE workflow = %s ORDER BY id", (workflow,)).fetchall()
    return [r[0] for r in rows]


@pytest.fixture
def backend(postgres_url: str):  # type: ignore[no-untyped-def]
    b = OutboxedTelemetry.for_url(postgres_url)
    yield b
    b.close(flush_seconds=0)


def test_a_server_stopped_and_started_mid_run_gets_every_call_once_and_in_order(
    backend: OutboxedTelemetry, postgres_server: PostgresServer, postgres_url: str
) -> None:
    """A writer keeps writing (one by one, and in batches) while the server goes down
    and comes back; the writes never wait for it."""
    total = 1_200
    written = 0
    progress = threading.Condition()

    def writer() -> None:
        nonlocal written
        i = 0
        while i < total:
            if i % 100 == 50:  # a batch now and then, as a replay or a bulk import writes
                backend.record_calls([rec(j) for j in range(i, i + 50)])
                i += 50
            else:
                backend.record_call(rec(i))
                i += 1
            with progress:
                written = i
                progress.notify_all()
            time.sleep(0.001)

    def wait_for(n: int) -> None:
        with progress:
            assert progress.wait_for(lambda: written >= n, timeout=120)

    thread = threading.Thread(target=writer)
    thread.start()
    wait_for(200)
    postgres_server.stop()  # mid-run
    wait_for(700)
    assert backend.outbox.pending() > 0
    postgres_server.start()
    thread.join(timeout=120)
    assert written == total
    assert backend.flush(timeout=60)  # the background sender retried on its own
    assert server_order(postgres_url) == [float(i) for i in range(total)]
    assert backend.aggregate_by_model("outbox", since=START - timedelta(hours=1))[0].calls == total
    assert backend.last_error is None


def test_while_the_server_is_down_nothing_is_sent_and_the_outage_is_reported(
    backend: OutboxedTelemetry, postgres_server: PostgresServer, postgres_url: str
) -> None:
    postgres_server.stop()
    backend.record_calls([rec(i) for i in range(20)])
    assert not backend.flush(timeout=1.0)  # nothing reaches a stopped server
    assert backend.outbox.pending() == 20
    with pytest.raises(TelemetryStoreError, match="PostgreSQL"):  # reads say so in one line
        backend.aggregate_by_model("outbox")
    postgres_server.start()
    assert backend.flush(timeout=60)
    assert server_order(postgres_url) == [float(i) for i in range(20)]


def test_a_batch_the_server_committed_but_the_outbox_kept_is_not_counted_twice(
    backend: OutboxedTelemetry, postgres_url: str
) -> None:
    """A crash between the server's commit and the outbox's delete: the batch is sent again."""
    backend.close(flush_seconds=0)  # no sender: the test plays the crashed one
    outbox = Outbox(outbox_path(postgres_url))
    outbox.add([tuple(v for v in _row(rec(i))) for i in range(50)])
    remote = PostgresTelemetryStore(postgres_url)
    assert remote.insert_rows(outbox.peek(1000)) == 50  # committed on the server ...
    assert outbox.pending() == 50  # ... and still in the outbox
    remote.close()

    again = OutboxedTelemetry.for_url(postgres_url)  # the next process sends what waits
    try:
        assert again.flush(timeout=30)
        assert server_order(postgres_url) == [float(i) for i in range(50)]
    finally:
        again.close(flush_seconds=0)


def _row(record: LLMCallRecord) -> tuple[object, ...]:
    from attune.models.telemetry.queries import call_row

    return call_row(record)


WRITER = textwrap.dedent("""
    import sys
    from datetime import UTC, datetime, timedelta
    from attune.models import LLMCallRecord
    from attune.models.telemetry.backend import get_telemetry_backend
    start = datetime.now(UTC) - timedelta(minutes=20)
    backend = get_telemetry_backend()
    for i in range(int(sys.argv[1])):
        backend.record_call(LLMCallRecord("exits", "stage", "summarize", "anthropic", "cheap", "claude-haiku-4-5",
                                          True, latency_ms=float(i), timestamp=start + timedelta(milliseconds=i)))
""")


def _write_in_a_process(url: str, n: int, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """``n`` calls written by a process of their own (``prelude`` runs first in it)."""
    env = {**os.environ, "ATTUNE_TELEMETRY_URL": url, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-c", prelude + WRITER, str(n)], env=env, capture_output=True, text=True, timeout=60
    )


def _the_next_process_sends_them(url: str, n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening the backend, with nothing new written, sends the ``n`` calls that wait."""
    monkeypatch.setenv("ATTUNE_TELEMETRY_URL", url)
    backend = get_telemetry_backend()
    assert isinstance(backend, OutboxedTelemetry)
    try:
        assert backend.flush(timeout=30)
        assert server_order(url, "exits") == [float(i) for i in range(n)]
    finally:
        backend.close(flush_seconds=0)


def test_a_process_that_exits_at_once_sends_its_calls_first(postgres_url: str) -> None:
    done = _write_in_a_process(postgres_url, 30)
    assert done.returncode == 0, done.stderr
    assert server_order(postgres_url, "exits") == [float(i) for i in range(30)]
    assert Outbox(outbox_path(postgres_url)).pending() == 0


def test_calls_left_by_a_process_that_exited_during_an_outage_are_sent_by_the_next(
    postgres_server: PostgresServer, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres_server.stop()
    done = _write_in_a_process(postgres_url, 25)
    assert done.returncode == 0, done.stderr
    assert "25 call(s) wait in" in done.stderr  # said once, at exit, with where they wait
    assert Outbox(outbox_path(postgres_url)).pending() == 25

    postgres_server.start()
    _the_next_process_sends_them(postgres_url, 25, monkeypatch)


def test_the_password_of_the_url_is_in_no_message_and_no_file_name(postgres_server: PostgresServer) -> None:
    url = f"postgresql://{postgres_server.user}:s3cr3t-pw@127.0.0.1:1/nowhere"  # port 1: refused at once
    backend = OutboxedTelemetry.for_url(url)
    try:
        backend.record_call(rec(1))
        assert not backend.flush(timeout=15)  # the first attempt gives up after its connect timeout
        assert backend.last_error is not None
        assert "s3cr3t-pw" not in backend.last_error and "***" in backend.last_error
        assert "s3cr3t-pw" not in str(backend.outbox.path) and "s3cr3t-pw" not in repr(backend)
    finally:
        backend.close(flush_seconds=0)


def test_without_psycopg_the_calls_wait_in_the_outbox_for_a_process_that_has_it(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process without the [postgres] extra (an editor's bundled server, say) loses nothing."""
    no_psycopg = "import sys; sys.modules['psycopg'] = sys.modules['psycopg_pool'] = None\n"  # imports fail
    done = _write_in_a_process(postgres_url, 4, prelude=no_psycopg)
    assert done.returncode == 0, done.stderr
    assert "needs psycopg 3: pip install 'attune-companion[postgres]'" in done.stderr
    assert Outbox(outbox_path(postgres_url)).pending() == 4

    _the_next_process_sends_them(postgres_url, 4, monkeypatch)
