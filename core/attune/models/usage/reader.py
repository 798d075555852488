"""``UsageReader``: the logs read incrementally into the cache, and the questions
asked of it (current block, today, per day, block, project and model).

Reading: each log file is read from where the last read stopped (in any process:
the offsets are in the cache), complete lines only, in chunks; one write transaction
takes many files, committed every ``COMMIT_BYTES`` read.
A file whose inode changed, that got shorter, or whose first bytes changed was
replaced or rewritten: its entries are dropped and it is read again from the start.
A file that is gone has its entries dropped. Entries are keyed by message id +
request id; a duplicate keeps the larger usage, and a sidechain replay of a message
already seen (same message id, ``isSidechain: true``) is dropped in favour of the
parent's entry, in whichever order they are read (ccusage's rules).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from attune.models._internal import paths
from attune.models.usage.blocks import BLOCK_MS, UsageBlock, block_spans, is_active, to_datetime, to_ms
from attune.models.usage.cache import is_unusable, open_cache, set_cache_aside
from attune.models.usage.costs import ModelUsage
from attune.models.usage.lines import Entry, parse_lines
from attune.models.usage.roots import iter_log_files, log_roots
from attune.models.usage.totals import UsageTotals, combine

if TYPE_CHECKING:
    from attune.models.strategy.model import SubscriptionBlock

#: Bytes read (and committed) at a time from one file.
CHUNK_BYTES = 16 * 1024 * 1024
#: Bytes of logs read into one write transaction before it is committed.
COMMIT_BYTES = 64 * 1024 * 1024
#: How many first bytes of a file are compared to notice it was rewritten.
HEAD_BYTES = 256
#: Message ids per ``IN (...)`` lookup (SQLite allows 32,766 parameters since 3.32).
_IDS_PER_QUERY = 500

Grouping = Literal["day", "project", "model"]
_GROUP_SQL: dict[str, str] = {
    "day": "date(ts / 1000, 'unixepoch', 'localtime')",
    "project": "project",
    "model": "model",
    "all": "''",
}


def usage_db_path() -> Path:
    return paths.state_dir() / "usage.db"


@dataclass(frozen=True)
class ReadStats:
    """What one ``refresh`` did."""

    files: int  # log files found under the roots
    files_read: int  # of those, read this time (new or grown)
    new_entries: int
    skipped_lines: int  # lines read this time that could not be used
    elapsed_seconds: float


@dataclass
class _FileRow:
    id: int
    inode: int
    device: int
    size: int
    mtime_ns: int
    offset: int
    head: bytes


class _Batch:
    """One write transaction (``BEGIN IMMEDIATE``) over the reads of many files,
    committed once ``COMMIT_BYTES`` of logs were read into it: each commit rewrites
    every index page it touched, so a commit per file would cost more than the
    reading; the bound keeps other processes from waiting long for the lock."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.pending = 0

    def begin(self) -> None:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")

    def done(self, nbytes: int) -> None:
        self.pending += nbytes
        if self.pending >= COMMIT_BYTES:
            self.commit()

    def commit(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")
        self.pending = 0

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


@dataclass
class _Held:
    """A message's entry as the cache holds it (``rowid``) or as this read adds it (``entry``)."""

    rowid: int | None
    request_id: str
    sidechain: bool
    total: int
    file_id: int
    entry: Entry | None = None

    @classmethod
    def of(cls, entry: Entry, file_id: int) -> _Held:
        return cls(None, entry.request_id, entry.sidechain, entry.total, file_id, entry)


def _better(candidate: Entry, sidechain: bool, total: int) -> bool:
    """Whether ``candidate`` replaces the stored entry of the same message."""
    if candidate.sidechain != sidechain:
        return sidechain  # the parent's entry wins over its sidechain replay
    return candidate.total > total  # a message logged as it streamed: its last usage is the largest


class UsageReader:
    """Reads Claude Code's logs under ``roots`` (default ``log_roots()``) into the
    cache at ``cache_path`` (default ``usage.db`` in the state folder).

    Safe to share between threads (one lock) and between processes (SQLite).
    ``refresh()`` reads what is new; the questions read the cache as it is."""

    def __init__(self, roots: Sequence[Path | str] | None = None, cache_path: Path | str | None = None) -> None:
        self.roots = [Path(r) for r in roots] if roots is not None else log_roots()
        self.cache_path = Path(cache_path) if cache_path is not None else usage_db_path()
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    # ---- the cache ----------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self._conn = open_cache(self.cache_path)
            except sqlite3.DatabaseError as exc:
                if not is_unusable(exc):
                    raise
                set_cache_aside(self.cache_path, exc)
                self._conn = open_cache(self.cache_path)
        return self._conn

    def _rebuild(self, exc: sqlite3.DatabaseError) -> None:
        self.close()
        set_cache_aside(self.cache_path, exc)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> UsageReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---- reading ------------------------------------------------------------

    def refresh(self) -> ReadStats:
        """Read what is new in the logs. Idempotent: a second call with no change
        to the logs reads nothing and changes nothing."""
        started = time.perf_counter()
        with self._lock:
            try:
                counts = self._refresh()
            except sqlite3.DatabaseError as exc:
                if not is_unusable(exc):
                    raise
                self._rebuild(exc)
                counts = self._refresh()
        return ReadStats(*counts, time.perf_counter() - started)

    def _refresh(self) -> tuple[int, int, int, int]:
        conn = self._db()
        batch = _Batch(conn)
        try:
            counts = self._read_all(conn, batch)
            batch.commit()
        except BaseException:
            batch.rollback()
            raise
        return counts

    def _read_all(self, conn: sqlite3.Connection, batch: _Batch) -> tuple[int, int, int, int]:
        files = read = new = skipped = 0
        for _ in range(3):  # a dropped file asks the files that shared its entries for one more pass
            known = {
                row[0]: _FileRow(*row[1:])
                for row in conn.execute("SELECT path, id, inode, device, size, mtime_ns, read_offset, head FROM files")
            }
            found = list(iter_log_files(self.roots))
            files = len(found)
            present = set()
            for path, info in found:
                present.add(path)
                row = known.get(path)
                if (
                    row is not None
                    and row.inode == info.st_ino
                    and row.size == info.st_size
                    and row.mtime_ns == info.st_mtime_ns
                ):
                    continue
                got = self._read_file(conn, batch, path)
                if got is not None:
                    read += 1
                    new += got[0]
                    skipped += got[1]
            gone = [row.id for path, row in known.items() if path not in present]
            if gone:
                batch.begin()
                for file_id in gone:
                    self._drop_file(conn, file_id)
                    conn.execute("DELETE FROM files WHERE id = ?", (file_id,))
            if not conn.execute("SELECT 1 FROM files WHERE size = -1 LIMIT 1").fetchone():
                break
        return files, read, new, skipped

    def _read_file(self, conn: sqlite3.Connection, batch: _Batch, path: str) -> tuple[int, int] | None:
        """Read one file from its offset to its end; (new entries, skipped lines), or
        None when it could not be opened (gone meanwhile, unreadable)."""
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        except OSError:
            return None
        new = skipped = 0
        project = Path(path).parent.name
        want = CHUNK_BYTES
        try:
            while True:
                batch.begin()
                info = os.fstat(fd)
                row = self._file_row(conn, path, fd, info)
                if row.offset >= info.st_size:
                    conn.execute(
                        "UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?",
                        (info.st_size, info.st_mtime_ns, row.id),
                    )
                    return new, skipped
                data = os.pread(fd, min(want, info.st_size - row.offset), row.offset)
                entries, consumed, bad = parse_lines(data, row.offset, str(row.id), project)
                new += self._store(conn, entries, row.id)
                skipped += bad
                offset = row.offset + consumed
                head = row.head
                if len(head) < HEAD_BYTES:
                    head = data[: min(HEAD_BYTES, consumed)] if row.offset == 0 else os.pread(fd, HEAD_BYTES, 0)
                    head = head[: min(HEAD_BYTES, offset)]
                at_end = row.offset + len(data) >= info.st_size
                # The stat is kept only once everything up to it is read (a partial
                # last line included): until then the next refresh reads on.
                conn.execute(
                    "UPDATE files SET size = ?, mtime_ns = ?, read_offset = ?, head = ?, skipped = skipped + ?"
                    " WHERE id = ?",
                    (info.st_size if at_end else -1, info.st_mtime_ns, offset, head, bad, row.id),
                )
                batch.done(len(data))
                if at_end:
                    return new, skipped
                # a line longer than the chunk: read a larger one
                want = CHUNK_BYTES if consumed else want * 2
        finally:
            os.close(fd)

    def _file_row(self, conn: sqlite3.Connection, path: str, fd: int, info: os.stat_result) -> _FileRow:
        """The file's row, read inside the write transaction (another process may
        have read further); reset to offset 0 when the file was replaced or cut."""
        found = conn.execute(
            "SELECT id, inode, device, size, mtime_ns, read_offset, head FROM files WHERE path = ?", (path,)
        ).fetchone()
        if found is None:
            cursor = conn.execute(
                "INSERT INTO files (path, inode, device, size, mtime_ns, read_offset, head)"
                " VALUES (?, ?, ?, -1, 0, 0, ?)",
                (path, info.st_ino, info.st_dev, b""),
            )
            assert cursor.lastrowid is not None
            return _FileRow(cursor.lastrowid, info.st_ino, info.st_dev, -1, 0, 0, b"")
        row = _FileRow(*found)
        replaced = row.inode != info.st_ino or row.device != info.st_dev or info.st_size < row.offset
        if not replaced and row.head:
            replaced = os.pread(fd, len(row.head), 0) != row.head
        if replaced:
            self._drop_file(conn, row.id)
            conn.execute(
                "UPDATE files SET inode = ?, device = ?, size = -1, read_offset = 0, head = ?, skipped = 0"
                " WHERE id = ?",
                (info.st_ino, info.st_dev, b"", row.id),
            )
            row = _FileRow(row.id, info.st_ino, info.st_dev, -1, row.mtime_ns, 0, b"")
        return row

    @staticmethod
    def _drop_file(conn: sqlite3.Connection, file_id: int) -> None:
        """Forget a file's entries; the files that logged some of the same messages
        are read again (size -1), so the copies they hold come back."""
        others = [r[0] for r in conn.execute("SELECT other_id FROM overlaps WHERE file_id = ?", (file_id,))]
        conn.execute("DELETE FROM entries WHERE file_id = ?", (file_id,))
        conn.execute("DELETE FROM overlaps WHERE file_id = ? OR other_id = ?", (file_id, file_id))
        conn.executemany(
            "UPDATE files SET size = -1, read_offset = 0, head = ?, skipped = 0 WHERE id = ?",
            [(b"", other) for other in others],
        )

    @staticmethod
    def _store(conn: sqlite3.Connection, entries: list[Entry], file_id: int) -> int:
        """Insert, replace or drop each entry by the deduplication rules; the count of
        new messages. What the cache holds of these messages is read in one go, the
        rules run in memory, and the changes are written in one go."""
        ids = list({entry.message_id for entry in entries})
        held: dict[str, list[_Held]] = {}
        for i in range(0, len(ids), _IDS_PER_QUERY):
            part = ids[i : i + _IDS_PER_QUERY]
            for rowid, message_id, request_id, sidechain, total, owner in conn.execute(
                "SELECT rowid, message_id, request_id, sidechain, input + output + cache_creation + cache_read,"
                f" file_id FROM entries WHERE message_id IN ({','.join('?' * len(part))})",
                part,
            ):
                held.setdefault(message_id, []).append(_Held(rowid, request_id, bool(sidechain), total, owner))
        replaced: list[int] = []
        overlaps: set[int] = set()
        for entry in entries:
            rows = held.setdefault(entry.message_id, [])
            match = next((r for r in rows if r.request_id == entry.request_id), None)
            if match is None:
                match = next((r for r in rows if entry.sidechain or r.sidechain), None)
            if match is None:
                rows.append(_Held.of(entry, file_id))
                continue
            if match.file_id != file_id:
                overlaps.add(match.file_id)
            if _better(entry, match.sidechain, match.total):
                if match.rowid is not None:
                    replaced.append(match.rowid)
                rows[rows.index(match)] = _Held.of(entry, file_id)
        inserts = [_row(r.entry, file_id) for rows in held.values() for r in rows if r.entry is not None]
        conn.executemany("DELETE FROM entries WHERE rowid = ?", [(rowid,) for rowid in replaced])
        conn.executemany(_INSERT, inserts)
        conn.executemany(
            "INSERT OR IGNORE INTO overlaps (file_id, other_id) VALUES (?, ?)",
            [pair for other in overlaps for pair in ((file_id, other), (other, file_id))],
        )
        return len(inserts) - len(replaced)

    # ---- the questions ------------------------------------------------------

    def _query(self, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._db().execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                if not is_unusable(exc):
                    raise
                self._rebuild(exc)
                self._refresh()
                return self._db().execute(sql, params).fetchall()

    def _totals(self, group: str, since_ms: int | None = None, until_ms: int | None = None) -> list[UsageTotals]:
        rows = self._query(
            f"SELECT {_GROUP_SQL[group]} AS k, model, sum(input), sum(output), sum(cache_creation),"
            " sum(cache_creation_1h), sum(cache_read), count(*) FROM entries"
            " WHERE ts >= ? AND ts <= ? GROUP BY k, model ORDER BY k, model",
            (since_ms if since_ms is not None else -(2**62), until_ms if until_ms is not None else 2**62),
        )
        grouped: dict[str, list[ModelUsage]] = {}
        for key, *rest in rows:
            grouped.setdefault(str(key), []).append(ModelUsage(*rest))
        return [combine(key, usages) for key, usages in grouped.items()]

    def total(self, since: datetime | None = None, until: datetime | None = None) -> UsageTotals:
        """Everything logged from ``since`` (default: the first entry) to ``until``."""
        found = self._totals("all", _ms(since), _ms(until))
        return found[0] if found else UsageTotals("")

    def by(self, grouping: Grouping, since: datetime | None = None) -> list[UsageTotals]:
        """Totals per local day (``YYYY-MM-DD``), per project (the entries' cwd) or per
        model, from ``since``, in key order."""
        if grouping not in ("day", "project", "model"):
            raise ValueError(f"grouping must be day, project or model, not {grouping!r}")
        return self._totals(grouping, _ms(since))

    def today(self, now: datetime | None = None) -> UsageTotals:
        """What was used on ``now``'s local calendar day (default: today)."""
        local = (now or datetime.now()).astimezone()
        midnight = datetime.combine(local.date(), datetime.min.time(), local.tzinfo)
        next_midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), local.tzinfo)
        found = self._totals("all", to_ms(midnight), to_ms(next_midnight) - 1)
        day = local.date().isoformat()
        return replace(found[0], key=day) if found else UsageTotals(day)

    def _block(self, start: int, first: int, last: int, now_ms: int) -> UsageBlock:
        found = self._totals("all", first, last)
        key = to_datetime(start).isoformat()
        totals = replace(found[0], key=key) if found else UsageTotals(key)
        return UsageBlock(
            start=to_datetime(start),
            end=to_datetime(start + BLOCK_MS),
            first_entry=to_datetime(first),
            last_entry=to_datetime(last),
            totals=totals,
            is_active=is_active(start, last, now_ms),
        )

    def blocks(self, since: datetime | None = None, now: datetime | None = None) -> list[UsageBlock]:
        """Every 5-hour block (oldest first) that ends after ``since``."""
        now_ms = to_ms(now or datetime.now().astimezone())
        stamps = [int(r[0]) for r in self._query("SELECT ts FROM entries ORDER BY ts")]
        since_ms = _ms(since)
        return [
            self._block(start, first, last, now_ms)
            for start, first, last in block_spans(stamps)
            if since_ms is None or start + BLOCK_MS > since_ms
        ]

    def current_block(self, now: datetime | None = None) -> UsageBlock | None:
        """The block ``now`` falls in, or None when no block is active (no entry in
        the last 5 hours). Entries after ``now`` are not counted."""
        now_ms = to_ms(now or datetime.now().astimezone())
        window = 24 * 3_600_000
        while True:
            # Within a window, an entry more than 5 h after the one before it (or after
            # the window's start) surely starts a block: the chain from there decides.
            rows = self._query("SELECT ts FROM entries WHERE ts > ? AND ts <= ? ORDER BY ts", (now_ms - window, now_ms))
            stamps = [int(r[0]) for r in rows]
            if not stamps:
                return None
            previous = now_ms - window
            anchor = None
            for index in range(len(stamps) - 1, -1, -1):
                before = stamps[index - 1] if index else previous
                if stamps[index] - before > BLOCK_MS:
                    anchor = index
                    break
            earliest = self._query("SELECT min(ts) FROM entries")[0][0]
            if anchor is None and earliest is not None and int(earliest) >= stamps[0]:
                anchor = 0
            if anchor is not None:
                start, first, last = block_spans(stamps[anchor:])[-1]
                if not is_active(start, last, now_ms):
                    return None
                return self._block(start, first, last, now_ms)
            window *= 4

    def skipped_lines(self) -> int:
        """Lines of the logs read so far that could not be used."""
        return int(self._query("SELECT coalesce(sum(skipped), 0) FROM files")[0][0])


_INSERT = (
    "INSERT INTO entries (message_id, request_id, ts, model, project, session_id, input, output,"
    " cache_creation, cache_creation_1h, cache_read, sidechain, file_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _row(entry: Entry, file_id: int) -> tuple[object, ...]:
    return (
        entry.message_id,
        entry.request_id,
        entry.ts_ms,
        entry.model,
        entry.project,
        entry.session_id,
        entry.input,
        entry.output,
        entry.cache_creation,
        entry.cache_creation_1h,
        entry.cache_read,
        int(entry.sidechain),
        file_id,
    )


def _ms(moment: datetime | date | None) -> int | None:
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, datetime.min.time())
    return to_ms(moment)


def subscription_block(
    source: UsageReader | UsageBlock | None, now: datetime | None = None
) -> SubscriptionBlock | None:
    """The current block as the strategy's rules take it (tokens used, reset time);
    None when there is no active block. A reader is asked for its current block (it
    is not refreshed here)."""
    from attune.models.strategy.model import SubscriptionBlock

    block = source.current_block(now) if isinstance(source, UsageReader) else source
    if block is None or block.seconds_left(now) <= 0:
        return None
    return SubscriptionBlock(used_tokens=block.total_tokens, resets_at=block.end)
