"""Commands that only show things create nothing: no config or state folder, no
breaker.db, no telemetry.db. Where a store does not exist yet they answer as empty."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

READ_ONLY = [
    ("auth", "status"),
    ("auth", "status", "--json"),
    ("breaker", "status"),
    ("breaker", "status", "--json"),
    ("routing", "stats"),
    ("routing", "stats", "--json"),
    ("routing", "stats", "docs"),
    ("routing", "stats", "docs", "--json"),
    ("routing", "best", "docs", "review"),
    ("routing", "best", "docs", "review", "--json"),
    ("runs",),
    ("runs", "--json"),
    ("runs", "--task", "review", "--file", "a.py"),
]


def run(cmd: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cmd, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_a_read_only_command_creates_no_file(attune_cmd, cli_env, attune_home: Path, args: tuple[str, ...]) -> None:
    (attune_home / "keep.txt").write_text("the user's")
    before = listing(attune_home)
    result = run(attune_cmd, cli_env, *args)
    assert result.returncode == 0, result.stderr
    assert listing(attune_home) == before


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_a_read_only_command_does_not_create_attune_home(attune_cmd, cli_env, tmp_path: Path, args) -> None:
    home = tmp_path / "not-yet"
    result = run(attune_cmd, {**cli_env, "ATTUNE_HOME": str(home)}, *args)
    assert result.returncode == 0, result.stderr
    assert not home.exists()


def test_missing_stores_read_as_empty(attune_cmd, cli_env) -> None:
    breakers = json.loads(run(attune_cmd, cli_env, "breaker", "status", "--json").stdout)
    assert breakers["breakers"] == {} and breakers["store"]["reachable"] is True
    assert "every provider is available" in run(attune_cmd, cli_env, "breaker", "status").stdout
    assert json.loads(run(attune_cmd, cli_env, "routing", "stats", "--json").stdout)["workflows"] == []
    assert json.loads(run(attune_cmd, cli_env, "routing", "stats", "docs", "--json").stdout)["total_calls"] == 0
    best = json.loads(run(attune_cmd, cli_env, "routing", "best", "docs", "review", "--json").stdout)
    assert best["fallback"] is True and best["candidates"] == []


def test_a_corrupt_breaker_file_is_reported_and_left_alone_by_status(attune_cmd, cli_env, attune_home: Path) -> None:
    db = attune_home / "state" / "breaker.db"
    db.parent.mkdir()
    db.write_bytes(b"not a database" * 100)
    result = run(attune_cmd, cli_env, "breaker", "status")
    assert result.returncode == 1
    assert "unavailable" in result.stderr and "Traceback" not in result.stderr
    assert listing(attune_home) == ["state", "state/breaker.db"]
    assert db.read_bytes() == b"not a database" * 100


def test_status_reads_state_then_writing_commands_still_write(attune_cmd, cli_env, attune_home: Path) -> None:
    from attune.models import get_circuit_breaker

    breaker = get_circuit_breaker()
    for _ in range(breaker.failure_threshold):
        breaker.record_failure("anthropic", "cheap")
    status = json.loads(run(attune_cmd, cli_env, "breaker", "status", "--json").stdout)
    assert status["breakers"]["anthropic:cheap"]["state"] == "open"
    reset = run(attune_cmd, cli_env, "breaker", "reset", "anthropic")
    assert reset.returncode == 0 and "Reset anthropic:cheap" in reset.stdout
    assert breaker.get_status() == {}
