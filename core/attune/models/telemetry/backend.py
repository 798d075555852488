"""Which telemetry backend a process writes its call records to.

``ATTUNE_TELEMETRY_URL`` (``urls``; or the CLI's ``--telemetry URL``, which sets it) names it:

- unset, a path, or ``sqlite:///path``: the SQLite store on this machine (the default
  is ``state/telemetry.db``);
- ``postgresql://user@host/db`` (or ``postgres://``): a team's PostgreSQL, written
  through a local outbox so that calls never wait for the network (``outbox``).

Task runs (``start_run`` and the runs the editor shows) always stay in the local
SQLite store: they describe this machine's files. Only call records are shared.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from attune.models.telemetry.queries import DEFAULT_RETENTION_DAYS
from attune.models.telemetry.urls import redact, sqlite_path, telemetry_url

if TYPE_CHECKING:
    from attune.models.telemetry.records import TelemetryBackend

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
