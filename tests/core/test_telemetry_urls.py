"""Which store a telemetry URL names, and the URL as messages show it (no password)."""

from __future__ import annotations

from pathlib import Path

import pytest

from attune.models.telemetry.records import TelemetryStoreError
from attune.models.telemetry.urls import redact, sqlite_path


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://ada:hunter2@db.example:5433/attune", "postgresql://ada:***@db.example:5433/attune"),
        ("postgresql://db.example/attune?password=hunter2&sslmode=require", "postgresql://db.example/attune?password=***&sslmode=require"),
        ("postgresql://ada@db.example/attune", "postgresql://ada@db.example/attune"),
    ],
)  # fmt: skip
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert "hunter2" not in redact(url)


def test_paths_sqlite_urls_and_servers() -> None:
    assert sqlite_path("/var/lib/attune/t.db") == Path("/var/lib/attune/t.db")
    assert sqlite_path("sqlite:////var/lib/attune/t.db") == Path("/var/lib/attune/t.db")
    assert sqlite_path("sqlite:///relative.db") == Path("relative.db")
    assert sqlite_path("postgres://db/attune") is None and sqlite_path("postgresql://db/attune") is None
    with pytest.raises(TelemetryStoreError, match="write a SQLite URL as sqlite:///path"):
        sqlite_path("sqlite://t.db")
    with pytest.raises(TelemetryStoreError, match=r"mysql://root:\*\*\*@db/attune: unknown scheme 'mysql'"):
        sqlite_path("mysql://root:hunter2@db/attune")
