"""The SQLite cache of what was read from the logs: ``usage.db`` in the state folder.

Two tables: ``files`` remembers how far each log file was read (and its inode, size,
mtime and first bytes, to notice a file truncated or replaced), ``entries`` holds one
row per message, UNIQUE on (message id, request id). ``overlaps`` pairs files that
logged the same message (a resumed session copies its history into a new file), so
a file that goes away has its entries dropped and the files that shared them read
again.

It is a cache: the logs are the only source. A database that SQLite cannot use
(corrupt, not a database, from an unknown schema) is moved aside as
``usage.db.corrupt-<time>`` and rebuilt from the logs, with one warning in the log.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from attune.models._internal.derived_db import CacheSchemaError, connect, is_unusable, set_aside_unusable
from attune.models._internal.safe_read import check_regular_if_exists
from attune.models._internal.sqlite_tx import immediate_transaction

logger = logging.getLogger("attune.models.usage")

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    inode INTEGER NOT NULL,
    device INTEGER NOT NULL,
    size INTEGER NOT NULL,        -- the size when last read (-1: look again)
    mtime_ns INTEGER NOT NULL,
    read_offset INTEGER NOT NULL, -- bytes consumed: complete lines only
    head BLOB NOT NULL,           -- the first bytes read, to notice a file rewritten in place
    skipped INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS entries (
    message_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    ts INTEGER NOT NULL,          -- UTC milliseconds
    model TEXT NOT NULL,
    project TEXT NOT NULL,
    session_id TEXT NOT NULL,
    input INTEGER NOT NULL,
    output INTEGER NOT NULL,
    cache_creation INTEGER NOT NULL,
    cache_creation_1h INTEGER NOT NULL,
    cache_read INTEGER NOT NULL,
    sidechain INTEGER NOT NULL,
    file_id INTEGER NOT NULL,
    UNIQUE (message_id, request_id)
);
CREATE INDEX IF NOT EXISTS entries_by_time ON entries (ts);
CREATE INDEX IF NOT EXISTS entries_by_file ON entries (file_id);
CREATE TABLE IF NOT EXISTS overlaps (
    file_id INTEGER NOT NULL,
    other_id INTEGER NOT NULL,
    PRIMARY KEY (file_id, other_id)
) WITHOUT ROWID
"""


def open_cache(path: Path) -> sqlite3.Connection:
    """A connection to the cache, with WAL, a busy timeout and the schema in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    check_regular_if_exists(path)
    conn = connect(path)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            with immediate_transaction(conn):
                if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                    for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version != SCHEMA_VERSION:
            raise CacheSchemaError(f"schema version {version}, expected {SCHEMA_VERSION}")
    except BaseException:
        conn.close()
        raise
    return conn


def set_cache_aside(path: Path, exc: Exception) -> None:
    """Move an unusable cache out of the way (it is rebuilt from the logs)."""
    set_aside_unusable(path, exc, "usage cache", logger, "the logs")


__all__ = ["CacheSchemaError", "is_unusable", "open_cache", "set_cache_aside"]
