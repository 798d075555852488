"""What the server knows about one document: its lines of code, or why it was not analysed.

Pure functions over the core's ``loc`` module; the asynchronous cache around them
lives in ``documents.py``. Nothing here decides a rule: sizes, modes and costs come
from ``attune.models``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from pygls.uris import to_fs_path


@dataclass(frozen=True)
class Analysis:
    """One document's lines of code (``loc``) or the reason it has none (``problem``)."""

    uri: str
    path: str  # file system path for file: URIs, else the URI (what reports show)
    version: Any  # the LSP version of an open document, (mtime_ns, size) of a file on disk
    content_hash: str | None
    loc: Any | None = None  # attune.models.loc.LocResult
    problem: str | None = None

    @property
    def analysed(self) -> bool:
        return self.loc is not None


def content_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class InvalidUri(ValueError):
    """A URI no file system path can be made of: it does not parse, or its ``file:``
    path holds a NUL character (``%00``), which no operating system accepts."""


def uri_path(uri: str) -> str | None:
    """The file system path of a ``file:`` URI, else None; InvalidUri when it has none."""
    try:
        scheme = urlparse(uri).scheme
    except ValueError as exc:  # e.g. an unclosed "[" in the host
        raise InvalidUri(f"not a valid URI ({exc})") from None
    if scheme != "file":
        return None
    path = to_fs_path(uri)
    if path is None or "\0" in path:
        raise InvalidUri("a file: URI whose path contains a NUL character (%00)")
    return path


def _too_large(size: int, max_bytes: int) -> str:
    return (
        f"file too large ({size / 1_048_576:.1f} MB > {max_bytes / 1_048_576:g} MB; "
        "raise attune.lens.maxFileSizeMB to analyse it)"
    )


def _problem(exc: Exception) -> str:
    """A short reason for the 'not analysed' lens."""
    from attune.models.errors import FileReadError
    from attune.models.loc.counter import BinaryFileError, FileTooLargeError

    if isinstance(exc, BinaryFileError):
        return "binary file"
    if isinstance(exc, FileTooLargeError):
        return str(exc) or "file too large"
    if isinstance(exc, FileReadError):  # refused unread by the core, e.g. "not a regular file (a FIFO)"
        return exc.problem
    if isinstance(exc, FileNotFoundError):
        return "file not found on disk"
    if isinstance(exc, OSError):
        return f"cannot read the file ({exc.strerror or exc})"
    return str(exc) or type(exc).__name__


def analyze_open_text(
    uri: str, version: Any, text: str, language_id: str | None, max_bytes: int, digest: str | None = None
) -> Analysis:
    """Count an open document's current text (unsaved edits included)."""
    from attune.models.loc.counter import LocError, analyze_text

    digest = digest or content_hash(text)
    try:
        path = uri_path(uri)
    except InvalidUri as exc:
        return Analysis(uri, uri, version, digest, problem=str(exc))
    shown = path or uri
    # 4 bytes per character at most: skip the encode for everything but borderline texts
    size = len(text) if len(text) * 4 <= max_bytes else len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        return Analysis(uri, shown, version, digest, problem=_too_large(size, max_bytes))
    try:
        loc = analyze_text(text, filename=path or urlparse(uri).path or None, language=language_id)
    except (LocError, ValueError) as exc:
        return Analysis(uri, shown, version, digest, problem=_problem(exc))
    return Analysis(uri, shown, version, digest, loc=loc)


def analyze_disk_file(uri: str, path: str, max_bytes: int) -> Analysis:
    """Count a file the client has not opened (e.g. a lens or recommend request for it).
    The core reads it: a FIFO, device or directory is refused without being opened."""
    import os

    from attune.models.loc.counter import LocError, analyze_file

    try:
        st = os.stat(path)
    except OSError as exc:
        return Analysis(uri, path, None, None, problem=_problem(exc))
    version = (st.st_mtime_ns, st.st_size)
    if st.st_size > max_bytes:  # checked here too, so a 50 MB file is never read
        return Analysis(uri, path, version, None, problem=_too_large(st.st_size, max_bytes))
    try:
        loc = analyze_file(path, max_bytes=max_bytes)
    except (LocError, OSError, ValueError) as exc:
        return Analysis(uri, path, version, None, problem=_problem(exc))
    return Analysis(uri, path, version, None, loc=loc)
