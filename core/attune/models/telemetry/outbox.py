"""Call records on their way to a shared store (PostgreSQL), so that a call never
waits for the network and nothing is lost while the server is down.

``OutboxedTelemetry`` is the backend a process uses for a ``postgresql://`` URL:

- A write appends the records to a local SQLite outbox (one file per server, in the
  state folder) and returns: milliseconds, whatever the server is doing.
- A background thread of the writing process sends what waits, oldest first, in
  batches, and removes a batch from the outbox once the server has committed it. While
  the server does not answer it retries with a growing pause (0.5 s to 30 s).
- Each record has a uid (the outbox's id and the record's sequence number) that the
  server stores once: a batch sent again after a crash between the server's commit
  and the outbox's delete is not counted twice. Records reach the server in the order
  they were written.
- One process at a time sends (a lock file beside the outbox); the others' records
  wait in the same outbox and go with the sender's.
- At exit a process tries for up to ``EXIT_FLUSH_SECONDS`` to send what waits; what is
  left stays in the outbox and the next process that uses the same server sends it.

Reads (the router's aggregates, ``attune spend``) go to the server: they see what
has been sent, normally within milliseconds of the write.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune.models._internal.sqlite_tx import immediate_transaction
from attune.models.telemetry.queries import RollupQueries, Snapshot, call_row
from attune.models.telemetry.records import (
    LLMCallRecord,
    TelemetryStoreError,
)
from attune.models.telemetry.urls import redact

if TYPE_CHECKING:
    from attune.models.telemetry.postgres import PostgresTelemetryStore

logger = logging.getLogger(__name__)

BATCH = 5_000  # records per transaction on the server
MIN_PAUSE, MAX_PAUSE = 0.5, 30.0  # seconds between attempts while the server is down
EXIT_FLUSH_SECONDS = 2.0
READ_WAIT = 0.5
BUSY_TIMEOUT_MS = 5_000

_OUTBOX_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, row TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


def outbox_path(url: str) -> Path:
    """The outbox of the server ``url`` names (its password left out of the name)."""
    from attune.models._internal import paths

    digest = hashlib.sha256(redact(url).encode()).hexdigest()[:16]
    return paths.state_dir() / f"telemetry-outbox-{digest}.db"


class Outbox:
    """Rows waiting to be sent, in a SQLite file every process of the user shares."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        conn = self._conn()
        with immediate_transaction(conn):
            for statement in _OUTBOX_SCHEMA:
                conn.execute(statement)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('id', ?)", (uuid.uuid4().hex,))
        (self.id,) = conn.execute("SELECT value FROM meta WHERE key = 'id'").fetchone()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            try:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as exc:
                raise TelemetryStoreError(f"{self.path}: cannot open the telemetry outbox ({exc})") from None
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        conn = self._conn()
        with immediate_transaction(conn):
            conn.executemany("INSERT INTO outbox (row) VALUES (?)", [(json.dumps(list(r)),) for r in rows])

    def peek(self, limit: int) -> list[tuple[int, str, list[Any]]]:
        """The oldest ``limit`` rows as (seq, uid, row)."""
        found = self._conn().execute("SELECT seq, row FROM outbox ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [(seq, f"{self.id}:{seq}", json.loads(row)) for seq, row in found]

    def remove_through(self, seq: int) -> None:
        conn = self._conn()
        with immediate_transaction(conn):
            conn.execute("DELETE FROM outbox WHERE seq <= ?", (seq,))

    def pending(self) -> int:
        (n,) = self._conn().execute("SELECT COUNT(*) FROM outbox").fetchone()
        return int(n)


class OutboxedTelemetry(RollupQueries):
    """Writes through the outbox, reads from the server (see the module doc)."""

    def __init__(self, remote: PostgresTelemetryStore, outbox: Outbox) -> None:
        self.remote = remote
        self.outbox = outbox
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._sender: threading.Thread | None = None
        self._sender_lock = threading.Lock()
        self._closed = False
        self.last_error: str | None = None
        _open.add(self)
        if outbox.pending():
            self._ensure_sender()  # what an earlier process left

    @classmethod
    def for_url(cls, url: str) -> OutboxedTelemetry:
        from attune.models.telemetry.postgres import PostgresTelemetryStore

        # reads here are the router's, before a call: they wait at most READ_WAIT for the server
        return cls(PostgresTelemetryStore(url, read_wait=READ_WAIT), Outbox(outbox_path(url)))

    def __repr__(self) -> str:
        return f"OutboxedTelemetry({self.remote!r}, outbox={str(self.outbox.path)!r})"

    # --- writes ------------------------------------------------------------------

    def record_call(self, record: LLMCallRecord) -> None:
        self.record_calls([record])

    def record_calls(self, records: Iterable[LLMCallRecord]) -> int:
        rows = [call_row(r) for r in records]
        if not rows:
            return 0
        if self._closed:
            raise TelemetryStoreError(f"{self.outbox.path}: the telemetry store is closed")
        self.outbox.add(rows)
        self._ensure_sender()
        self._wake.set()
        return len(rows)

    # --- sending -----------------------------------------------------------------

    def _ensure_sender(self) -> None:
        with self._sender_lock:
            if self._sender is None or not self._sender.is_alive():
                self._stop.clear()
                self._sender = threading.Thread(target=self._send_loop, name="attune-telemetry-outbox", daemon=True)
                self._sender.start()

    def _send_loop(self) -> None:
        pause = 0.0
        while not self._stop.is_set():
            if pause:
                self._wake.wait(pause)
            self._wake.clear()
            try:
                self.send_pending()
            except TelemetryStoreError as exc:
                if self.last_error != str(exc):
                    logger.warning(
                        "telemetry: %s; calls wait in %s and are sent when it answers", exc, self.outbox.path
                    )
                self.last_error = str(exc)
                pause = min(MAX_PAUSE, max(MIN_PAUSE, pause * 2))
                continue
            except Exception:  # a bug must not kill the sender silently
                if not self._stop.is_set():  # closing cuts a send short: what is left waits, nothing to report
                    logger.exception("telemetry: sending the outbox failed")
                pause = min(MAX_PAUSE, max(MIN_PAUSE, pause * 2))
                continue
            self.last_error, pause = None, 0.0
            with self._idle:
                self._idle.notify_all()
            self._wake.wait()  # until the next write (or close)

    def send_pending(self, deadline: float | None = None) -> int:
        """Send what waits, oldest first, until the outbox is empty (or ``deadline``,
        a ``time.monotonic()``); returns how many records the server took. Another
        process sending at the same time: returns 0 (its sender takes these too)."""
        with self._send_lock() as mine:
            if not mine:
                return 0
            sent = 0
            while deadline is None or time.monotonic() < deadline:
                batch = self.outbox.peek(BATCH)
                if not batch:
                    break
                sent += self.remote.insert_rows(batch)
                self.outbox.remove_through(batch[-1][0])
            return sent

    @contextlib.contextmanager
    def _send_lock(self) -> Iterator[bool]:
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.outbox.path) + ".lock", is_singleton=False)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until the outbox is empty; False if it is not after ``timeout`` s."""
        end = time.monotonic() + timeout
        while self.outbox.pending():
            left = end - time.monotonic()
            if left <= 0:
                return False
            self._ensure_sender()
            self._wake.set()
            with self._idle:
                self._idle.wait(min(left, 0.05))
        return True

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, flush_seconds: float = EXIT_FLUSH_SECONDS) -> None:
        """Stop sending; first try for ``flush_seconds`` to send what waits. What is
        left stays in the outbox for the next process."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._wake.set()
        if self._sender is not None:
            self._sender.join(timeout=flush_seconds)
        if flush_seconds > 0 and self.outbox.pending():
            with contextlib.suppress(TelemetryStoreError):
                self.send_pending(deadline=time.monotonic() + flush_seconds)
        left = self.outbox.pending()
        if left:
            logger.warning(
                "telemetry: %d call(s) wait in %s; the next attune process sends them", left, self.outbox.path
            )
        self.remote.close()

    # --- reads (the server's, through the reads every SQL store shares) ---------

    def _snapshot(self) -> contextlib.AbstractContextManager[Snapshot | None]:
        return self.remote._snapshot()

    def prune(self, older_than_days: float) -> int:
        return self.remote.prune(older_than_days)


_open: weakref.WeakSet[OutboxedTelemetry] = weakref.WeakSet()


@atexit.register
def close_all() -> None:
    """Close every outboxed backend of this process, each first trying to send what
    waits (at exit; a program that ends with ``os._exit`` calls this itself)."""
    for backend in list(_open):
        backend.close()
