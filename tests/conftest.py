"""Shared fixtures. Every test runs with ATTUNE_HOME in its own temp dir so no test
touches the developer's real strategy, backups or stores."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The shared test support: fixtures of the fake Anthropic API, the real redis-server,
# the LSP session and Claude Code's session logs; ManualClock is imported where it is used.
pytest_plugins = [
    "support.fake_anthropic",
    "support.redis_server",
    "support.postgres_server",
    "support.lsp_session",
    "support.claude_logs",
]


@pytest.fixture(autouse=True)
def attune_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "attune-home"
    home.mkdir()
    monkeypatch.setenv("ATTUNE_HOME", str(home))
    monkeypatch.delenv("ATTUNE_BREAKER_URL", raising=False)
    monkeypatch.delenv("ATTUNE_TELEMETRY_URL", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    # Claude Code's logs: a folder that does not exist, never the developer's own
    # (the claude_logs fixture points this at logs of its own).
    monkeypatch.setenv("ATTUNE_CLAUDE_LOGS", str(tmp_path / "no-claude-logs"))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    return home


@pytest.fixture
def cli_env(attune_home: Path) -> dict[str, str]:
    """Environment for running the `attune` CLI in a subprocess."""
    env = dict(os.environ)
    env["ATTUNE_HOME"] = str(attune_home)
    env.pop("ANTHROPIC_API_KEY", None)
    return env


@pytest.fixture
def attune_cmd() -> list[str]:
    """How to invoke the CLI: the interpreter running the tests, so it matches."""
    return [sys.executable, "-m", "attune.cli"]
