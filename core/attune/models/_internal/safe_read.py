"""Reading a file Attune's core reads: only a regular file, opened once, with a size limit.

The rule, for the strategy, its backups, ``pricing.json``, the line counter's source
files and the SQLite stores: a path that exists and is not a regular file (a FIFO, a
device, a socket, a directory) is refused with ``NotRegularFileError`` before it is
read. A FIFO would block the read (or the open) forever and ``/dev/zero`` never ends.

How: ``stat`` first, so a device is never even opened; then the file is opened with
``O_NONBLOCK`` (a FIFO swapped in meanwhile cannot block the open) and checked again
with ``fstat`` on the descriptor that is then read, so what is read is what was
checked. The read stops one byte past the limit, so a file that grows while it is read
is refused too (``FileSizeLimitError``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from attune.models.errors import FileSizeLimitError, NotRegularFileError

MIB = 1024 * 1024

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def format_size(n: int) -> str:
    """``1 MiB``, ``10 MiB``; other sizes in bytes (``1,500 bytes``)."""
    if n >= MIB and n % MIB == 0:
        return f"{n // MIB} MiB"
    return f"{n:,} bytes"


def _not_regular(path: str | os.PathLike[str], mode: int) -> NotRegularFileError:
    kind = next((name for test, name in _KINDS if test(mode)), "not a file")
    return NotRegularFileError(path, f"not a regular file ({kind})")


def check_regular_if_exists(path: str | os.PathLike[str]) -> None:
    """``NotRegularFileError`` when ``path`` exists and is not a regular file; nothing
    when it is one or is missing. For files another library opens (SQLite): only a
    ``stat``, since closing a descriptor of ours on a database would drop the locks
    SQLite holds on it in this process."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise _not_regular(path, mode)


def open_regular_file(path: str | os.PathLike[str]) -> tuple[int, os.stat_result]:
    """A read-only descriptor of a regular file and its ``fstat``; the caller closes it.

    ``NotRegularFileError`` for anything else, FileNotFoundError (and other OSErrors)
    as ``open`` raises them."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise _not_regular(path, mode)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # replaced between the stat and the open
            raise _not_regular(path, info.st_mode)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def read_regular_file(path: str | os.PathLike[str] | Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``.

    ``NotRegularFileError`` (nothing read) for a FIFO, device, socket or directory;
    ``FileSizeLimitError`` for a larger file (nothing read, or the read stopped at the
    limit if it grew meanwhile); FileNotFoundError and other OSErrors as ``open``
    raises them."""
    fd, info = open_regular_file(path)
    with open(fd, "rb", closefd=True) as fh:
        if info.st_size > max_bytes:
            raise FileSizeLimitError(
                path,
                f"is {info.st_size:,} bytes; the limit is {format_size(max_bytes)}",
                size=info.st_size,
                limit=max_bytes,
            )
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileSizeLimitError(
            path, f"grew past the limit of {format_size(max_bytes)} while it was read", limit=max_bytes
        )
    return data
