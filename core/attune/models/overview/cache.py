"""The count cache: ``counts.db`` in the state folder, a file's line counts keyed by
(absolute path, size, mtime_ns), so an unchanged workspace is summarised again
without reading a file.

A summary loads the rows under its root at once (one query), answers each file from
that dict after a ``stat``, and at the end writes the files it counted and drops the
rows under the root it did not see (files deleted, renamed or no longer listed), in
one write transaction. It is derived data: a database SQLite cannot use is moved
aside as ``counts.db.corrupt-<time>`` and rebuilt, with one warning in the log; a
cache that is busy or read-only is skipped for this summary (logged), never a
reason to fail it. Rows written by another version of the counter are dropped.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import astuple
from pathlib import Path

from attune.models._internal import paths
from attune.models._internal.derived_db import CacheSchemaError, connect, is_unusable, set_aside_unusable
from attune.models._internal.sqlite_tx import immediate_transaction
from attune.models.loc.counter import LocResult
from attune.models.version import FALLBACK_VERSION

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# Counts made by another version may follow other rules: such rows are dropped.
COUNTER_VERSION = FALLBACK_VERSION

_COLUMNS = (
    "language, code_lines, comment_lines, blank_lines, total_lines, generated, generated_marker, size_bytes, encoding"
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS counts (
    path TEXT PRIMARY KEY,        -- absolute
    size INTEGER NOT NULL,        -- the stat seen before the file was read
    mtime_ns INTEGER NOT NULL,
    language TEXT NOT NULL,       -- then loc.LocResult's fields, in its order
    code_lines INTEGER NOT NULL,
    comment_lines INTEGER NOT NULL,
    blank_lines INTEGER NOT NULL,
    total_lines INTEGER NOT NULL,
    generated INTEGER NOT NULL,
    generated_marker TEXT,
    size_bytes INTEGER NOT NULL,
    encoding TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID
"""


def counts_db_path() -> Path:
    return paths.state_dir() / "counts.db"


def _connect(path: Path) -> sqlite3.Connection:
    """WAL, a busy timeout and the schema in place; rows of another counter dropped."""
    conn = connect(path)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            raise CacheSchemaError(f"schema version {version}, expected {SCHEMA_VERSION}")
        counter = None
        if version == SCHEMA_VERSION:
            row = conn.execute("SELECT value FROM meta WHERE key = 'counter'").fetchone()
            counter = row[0] if row else None
        if counter != COUNTER_VERSION:
            with immediate_transaction(conn):
                for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                    conn.execute(statement)
                conn.execute("DELETE FROM counts")
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('counter', ?)", (COUNTER_VERSION,))
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.close()
        raise
    return conn


class CountCache:
    """The rows under one root, loaded by ``load``; ``lookup`` answers a file from
    them (``scan_tree``'s ``cached`` hook), ``add`` remembers a file counted, ``save``
    writes what changed. ``hits`` and ``misses`` count the lookups."""

    def __init__(self, root: Path, path: Path | None = None) -> None:
        self.root = str(root)
        self.path = path if path is not None else counts_db_path()
        self.hits = 0
        self.misses = 0
        self._rows: dict[str, tuple[int, int, LocResult]] = {}
        self._seen: set[str] = set()
        self._stats: dict[str, tuple[int, int]] = {}  # counted files: (size, mtime_ns) before counting
        self._counted: list[tuple[str, int, int, LocResult]] = []
        self._usable = True

    def _prefix_range(self) -> tuple[str, str]:
        prefix = self.root.rstrip(os.sep) + os.sep
        return prefix, prefix[:-1] + chr(ord(os.sep) + 1)

    def _open(self) -> sqlite3.Connection | None:
        """A connection, or None when the cache cannot be used now (logged)."""
        try:
            return _connect(self.path)
        except sqlite3.DatabaseError as exc:
            if not is_unusable(exc):
                logger.warning("count cache %s not used (%s); counting every file", self.path, exc)
                return None
            self._set_aside(exc)
        except OSError as exc:
            logger.warning("count cache %s not used (%s); counting every file", self.path, exc)
            return None
        try:
            return _connect(self.path)
        except (sqlite3.DatabaseError, OSError) as exc:
            logger.warning("count cache %s not used (%s); counting every file", self.path, exc)
            return None

    def _set_aside(self, exc: Exception) -> None:
        set_aside_unusable(self.path, exc, "count cache", logger)

    def load(self) -> None:
        """Read the rows under the root (a root that is a file: its own row)."""
        conn = self._open()
        if conn is None:
            self._usable = False
            return
        low, high = self._prefix_range()
        try:
            rows = conn.execute(
                f"SELECT path, size, mtime_ns, {_COLUMNS} FROM counts WHERE (path >= ? AND path < ?) OR path = ?",
                (low, high, self.root),
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            conn.close()
            if is_unusable(exc):
                self._set_aside(exc)
            else:
                logger.warning("count cache %s not read (%s); counting every file", self.path, exc)
            return
        conn.close()
        for path, size, mtime_ns, *counts in rows:
            counts[5] = bool(counts[5])  # generated
            self._rows[path] = (size, mtime_ns, LocResult(*counts))

    def lookup(self, path: str) -> LocResult | None:
        """The cached counts of ``path`` when its size and mtime are those cached."""
        self._seen.add(path)
        try:
            st = os.stat(path)
        except OSError:
            self.misses += 1
            return None  # the count says why
        row = self._rows.get(path)
        if row is not None and row[0] == st.st_size and row[1] == st.st_mtime_ns:
            self.hits += 1
            return row[2]
        self.misses += 1
        self._stats[path] = (st.st_size, st.st_mtime_ns)
        return None

    def add(self, path: str, loc: LocResult) -> None:
        """A file counted: stored with the size and mtime seen before it was read,
        so a file changed meanwhile is counted again next time."""
        stat = self._stats.get(path)
        if stat is not None:
            self._counted.append((path, *stat, loc))

    def save(self) -> None:
        """Write the files counted and drop the rows under the root not seen."""
        gone = [path for path in self._rows if path not in self._seen]
        if not self._usable or not (self._counted or gone):
            return
        conn = self._open()
        if conn is None:
            return
        marks = ", ".join("?" * (3 + len(_COLUMNS.split(", "))))
        try:
            with immediate_transaction(conn):
                conn.executemany(
                    f"INSERT OR REPLACE INTO counts (path, size, mtime_ns, {_COLUMNS}) VALUES ({marks})",
                    [(path, size, mtime_ns, *astuple(loc)) for path, size, mtime_ns, loc in self._counted],
                )
                conn.executemany("DELETE FROM counts WHERE path = ?", [(path,) for path in gone])
        except sqlite3.DatabaseError as exc:
            if is_unusable(exc):
                self._set_aside(exc)
            else:
                logger.warning("count cache %s not updated (%s)", self.path, exc)
        finally:
            conn.close()


__all__ = ["CountCache", "counts_db_path"]
