"""The write transaction both SQLite stores (breaker, telemetry) use."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def immediate_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """Take SQLite's write lock up front (``BEGIN IMMEDIATE``), so a read-modify-write
    is exact across processes and two writers never deadlock upgrading a read lock;
    commit at the end, roll back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
