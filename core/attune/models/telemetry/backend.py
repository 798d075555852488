"""Which telemetry backend a process writes its call records to.

``ATTUNE_TELEMETRY_URL`` (or the CLI's ``--telemetry URL``, which sets it) names it:

- unset, a path, or ``sqlite:///path``: the SQLite store on this machine (the default
  is ``state/telemetry.db``);
- ``postgresql://user@host/db`` (or ``postgres://``): a team's PostgreSQL, written
  through a local outbox so that calls never wait for the network (``outbox``).

Task runs (``start_run`` and the runs the editor shows) always stay in the local
SQLite store: they describe this machine's files. Only call records are shared.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from attune.models.telemetry.records import TelemetryStoreError

if TYPE_CHECKING:
    from attune.models.telemetry.records import TelemetryBackend

URL_ENV = "ATTUNE_TELEMETRY_URL"
DEFAULT_RETENTION_DAYS = 30
POSTGRES_SCHEMES = ("postgresql", "postgres")


def telemetry_url() -> str | None:
    """The configured URL, or None for the default local store."""
    return os.environ.get(URL_ENV, "").strip() or None


def sqlite_path(url: str) -> Path | None:
    """The file a SQLite URL or plain path names; None for a PostgreSQL URL."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in POSTGRES_SCHEMES:
        return None
    if scheme == "sqlite":
        # sqlite:///relative/or/absolute as SQLAlchemy writes it: three slashes, then the path
        rest = url.split(":", 1)[1]
        if not rest.startswith("///"):
            raise TelemetryStoreError(f"telemetry URL {redact(url)}: write a SQLite URL as sqlite:///path/to/file.db")
        return Path(unquote(rest[3:])).expanduser()
    if scheme and len(scheme) > 1:  # "c:" is a Windows drive, not a scheme
        raise TelemetryStoreError(
            f"telemetry URL {redact(url)}: unknown scheme {scheme!r} (use a path, sqlite:///path or postgresql://...)"
        )
    return Path(url).expanduser()


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=user + host).geturl()


_backends: dict[tuple[str, bool], TelemetryBackend] = {}
_lock = threading.Lock()


def get_telemetry_backend(*, read_only: bool = False) -> TelemetryBackend:
    """The backend this process writes call records to (one instance per URL).

    ``read_only=True`` (displays): a SQLite store opened read-only, which creates
    nothing; a PostgreSQL server is read directly, and the outbox is left alone."""
    from attune.models.telemetry.store import get_telemetry_store

    url = telemetry_url()
    if url is None:
        return get_telemetry_store(read_only=read_only)
    with _lock:
        backend = _backends.get((url, read_only))
        if backend is not None and not backend.closed:
            return backend
        if sqlite_path(url) is None and not read_only:
            from attune.models.telemetry.outbox import OutboxedTelemetry

            backend = OutboxedTelemetry.for_url(url)
        else:
            backend = open_store(url, read_only=read_only)
        _backends[(url, read_only)] = backend
        return backend


def open_store(
    url: str, *, retention_days: float | None = DEFAULT_RETENTION_DAYS, read_only: bool = False
) -> TelemetryBackend:
    """The store ``url`` names, opened directly: no outbox in front of a server."""
    from attune.models.telemetry.store import TelemetryStore

    path = sqlite_path(url)
    if path is not None:
        return TelemetryStore(path, retention_days=retention_days, read_only=read_only)
    from attune.models.telemetry.postgres import PostgresTelemetryStore

    return PostgresTelemetryStore(url, retention_days=retention_days)


def describe() -> str:
    """Where call records go, for people: the URL without its password, or the file."""
    from attune.models._internal import paths

    url = telemetry_url()
    if url is None:
        return str(paths.telemetry_db_path())
    path = sqlite_path(url)
    return redact(url) if path is None else str(path)


def send_waiting_calls(seconds: float) -> None:
    """Send the calls waiting in this machine's outbox for the configured server, for
    up to ``seconds`` (before a report, so that it includes them)."""
    url = telemetry_url()
    if url is None or sqlite_path(url) is not None:
        return
    from attune.models.telemetry.outbox import OutboxedTelemetry, outbox_path

    if not outbox_path(url).exists():
        return
    OutboxedTelemetry.for_url(url).close(flush_seconds=seconds)
