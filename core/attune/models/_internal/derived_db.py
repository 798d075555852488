"""SQLite databases of derived data (the usage cache, the count cache): opened the
same way, and moved aside when unusable, since they are rebuilt from their source."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from attune.models._internal.set_aside import set_aside

# A derived database waits this long for another process's write lock.
BUSY_TIMEOUT_SECONDS = 30.0


class CacheSchemaError(sqlite3.DatabaseError):
    """The database was written by another version of its schema."""


def is_unusable(exc: sqlite3.DatabaseError) -> bool:
    """The database file itself is broken (as opposed to busy or read-only)."""
    if isinstance(exc, CacheSchemaError):
        return True
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "file is encrypted" in text


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode, shareable across threads, with a busy
    timeout, WAL and ``synchronous = NORMAL`` (a lost last write is read again)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def set_aside_unusable(path: Path, exc: Exception, what: str, log: logging.Logger, source: str = "") -> None:
    """Move an unusable database (and its -wal, -shm) out of the way, with one warning
    naming ``what`` it is, where it was kept and the ``source`` it is rebuilt from;
    another process may have moved it first."""
    try:
        target = set_aside(path, companions=("-wal", "-shm"))
    except FileNotFoundError:
        return
    rebuilt = f"rebuilt it from {source}" if source else "rebuilt it"
    log.warning("%s %s was not usable (%s); kept it as %s and %s", what, path, exc, target, rebuilt)
