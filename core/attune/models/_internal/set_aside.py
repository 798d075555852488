"""Keeping an unusable file aside as ``<name>.corrupt-<UTC time>``, never overwriting one.

One naming rule for every file set aside (the strategy file, the breaker database):
``<name>.corrupt-<YYYYmmddTHHMMSS>.<nanoseconds>Z``, which sorts in time order; if
that name is taken anyway (two in one clock tick), ``-1``, ``-2``… is appended. The
move is a hard link to the new name, which fails rather than replace an existing
file, then the unlink of the old name; where hard links are not supported it is a
rename after checking the name is free.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path


def corrupt_name(name: str, now_ns: int | None = None) -> str:
    """``<name>.corrupt-20260217T101500.123456789Z`` for the time ``now_ns`` (default now)."""
    ns = time.time_ns() if now_ns is None else now_ns
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y%m%dT%H%M%S")
    return f"{name}.corrupt-{stamp}.{fraction:09d}Z"


def _move_no_replace(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``; FileExistsError if ``target`` exists,
    FileNotFoundError if ``source`` is gone."""
    try:
        os.link(source, target, follow_symlinks=False)
    except (FileExistsError, FileNotFoundError):
        raise
    except (OSError, NotImplementedError):  # no hard links on this file system
        if os.path.lexists(target):
            raise FileExistsError(f"{target} exists") from None
        os.rename(source, target)
        return
    try:
        os.unlink(source)
    except FileNotFoundError:  # another process moved it meanwhile: it keeps its copy
        os.unlink(target)
        raise


def set_aside(path: Path, *, companions: tuple[str, ...] = ()) -> Path:
    """Rename ``path`` to its ``.corrupt-<time>`` name; return that name.

    ``companions`` are suffixes of files that belong with it (SQLite's ``-wal`` and
    ``-shm``): each present one moves to the new name plus its suffix. Raises
    FileNotFoundError when ``path`` no longer exists (someone moved it first)."""
    base = corrupt_name(path.name)
    n = 0
    while True:
        target = path.with_name(base if n == 0 else f"{base}-{n}")
        try:
            _move_no_replace(path, target)
            break
        except FileExistsError:
            n += 1
    for suffix in companions:
        try:
            _move_no_replace(path.with_name(path.name + suffix), target.with_name(target.name + suffix))
        except FileNotFoundError:
            pass
    return target
