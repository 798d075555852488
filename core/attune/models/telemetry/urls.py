"""Telemetry URLs: which store ``ATTUNE_TELEMETRY_URL`` names, and how to show a URL
without its password."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from attune.models.telemetry.records import TelemetryStoreError

URL_ENV = "ATTUNE_TELEMETRY_URL"
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
    """``url`` without its password (in the user part, or libpq's ``password=``
    query parameter), for messages, logs and file names."""
    parts = urlsplit(url)
    if parts.query:
        query = [
            (key, "***" if key.lower() == "password" else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urlencode(query, safe="*"))
    if parts.password is not None:
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        user = f"{parts.username}:***@" if parts.username else ":***@"
        parts = parts._replace(netloc=user + host)
    return parts.geturl()
