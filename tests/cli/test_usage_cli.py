"""`attune usage` end to end: a subprocess over log files in Claude Code's shape."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from attune.models import AuthStrategy
from support.claude_logs import ClaudeLogs


def run(cmd: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cmd, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def cli_env_for(cli_env: dict[str, str], logs: ClaudeLogs) -> dict[str, str]:
    return {**cli_env, "ATTUNE_CLAUDE_LOGS": str(logs.root)}


def recent_session(logs: ClaudeLogs) -> datetime:
    """Two messages in the last 20 minutes, one two days ago; returns the latest time."""
    now = datetime.now(UTC)
    logs.write(
        logs.session_path(),
        logs.message(now - timedelta(days=2), cwd="/w/old"),
        logs.message(now - timedelta(minutes=20), input_tokens=1_000, output_tokens=500),
        logs.message(now - timedelta(minutes=10), input_tokens=1_000, output_tokens=500, cache_read=10_000),
    )
    return now


def test_no_logs_says_where_it_looked_and_exits_0(attune_cmd, cli_env, tmp_path: Path) -> None:
    env = {**cli_env, "CLAUDE_CONFIG_DIR": f"{tmp_path / 'a'},{tmp_path / 'b'}"}
    env.pop("ATTUNE_CLAUDE_LOGS")
    result = run(attune_cmd, env, "usage")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        == f"no Claude Code logs found at {tmp_path / 'a' / 'projects'}, {tmp_path / 'b' / 'projects'}"
    )
    doc = json.loads(run(attune_cmd, env, "usage", "--json").stdout)
    assert doc["schema_version"] == 1 and doc["logs_found"] is False
    assert doc["roots"] == [str(tmp_path / "a" / "projects"), str(tmp_path / "b" / "projects")]


def test_the_summary_shows_the_current_block_today_and_the_total(attune_cmd, cli_env, claude_logs: ClaudeLogs) -> None:
    recent_session(claude_logs)
    result = run(attune_cmd, cli_env_for(cli_env, claude_logs), "usage")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Current 5-hour block: started" in out and "resets in" in out
    assert "13,000 tokens" in out  # the block: 1,500 + 11,500
    assert "Total in all the logs: 13,150 tokens" in out
    assert "block budget" not in out  # none set: no limit is ever assumed
    assert "attune usage --by day|block|project|model" in out
    assert result.stderr == ""


def test_the_block_budget_from_the_strategy(attune_cmd, cli_env, claude_logs: ClaudeLogs) -> None:
    recent_session(claude_logs)
    AuthStrategy(subscription_tier="max", subscription_block_budget_tokens=52_000).save()
    result = run(attune_cmd, cli_env_for(cli_env, claude_logs), "usage")
    assert "25 % of your block budget (52,000 tokens)" in result.stdout
    doc = json.loads(run(attune_cmd, cli_env_for(cli_env, claude_logs), "usage", "--json").stdout)
    assert doc["block_budget_tokens"] == 52_000 and doc["block_budget_used_percent"] == 25.0


def test_a_corrupt_strategy_costs_only_the_budget_line(
    attune_cmd, cli_env, claude_logs: ClaudeLogs, attune_home
) -> None:
    recent_session(claude_logs)
    (attune_home / "auth_strategy.json").write_text("{not json")
    result = run(attune_cmd, cli_env_for(cli_env, claude_logs), "usage")
    assert result.returncode == 0
    assert "13,000 tokens" in result.stdout
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 1 and "auth_strategy.json" in warnings[0] and "without the block budget" in warnings[0]
    assert (attune_home / "auth_strategy.json").read_text() == "{not json"


def test_json_shape(attune_cmd, cli_env, claude_logs: ClaudeLogs) -> None:
    recent_session(claude_logs)
    claude_logs.write(claude_logs.session_path(), "not json")
    doc = json.loads(run(attune_cmd, cli_env_for(cli_env, claude_logs), "usage", "--json").stdout)
    assert list(doc) == [
        "schema_version", "logs_found", "roots", "files", "skipped_lines", "since", "current_block",
        "block_budget_tokens", "block_budget_used_percent", "today", "total", "by",
    ]  # fmt: skip
    assert doc["skipped_lines"] == 1 and doc["files"] == 1
    block = doc["current_block"]
    assert block["is_active"] is True and 0 < block["seconds_left"] <= 5 * 3600
    assert block["total_tokens"] == 13_000 and block["entries"] == 2
    assert block["cache_read_tokens"] == 10_000 and block["models"] == ["claude-sonnet-4-6"]
    assert set(block) >= {"start", "end", "first_entry", "last_entry", "cost_usd", "unpriced_models"}
    assert doc["total"]["total_tokens"] == 13_150 and doc["total"]["entries"] == 3
    assert doc["total"]["cost_usd"] > 0


def test_by_day_project_model_and_block(attune_cmd, cli_env, claude_logs: ClaudeLogs) -> None:
    now = recent_session(claude_logs)
    env = cli_env_for(cli_env, claude_logs)
    days = json.loads(run(attune_cmd, env, "usage", "--by", "day", "--json").stdout)
    assert days["by"] == "day" and days["rows"][0]["entries"] == 1  # two days ago
    assert sum(r["entries"] for r in days["rows"]) == 3
    projects = json.loads(run(attune_cmd, env, "usage", "--by", "project", "--json").stdout)
    assert [r["key"] for r in projects["rows"]] == ["/home/u/project", "/w/old"]
    blocks = json.loads(run(attune_cmd, env, "usage", "--by", "block", "--json").stdout)
    assert [b["is_active"] for b in blocks["rows"]] == [False, True]
    since = (now - timedelta(days=1)).astimezone().date().isoformat()
    recent = json.loads(run(attune_cmd, env, "usage", "--by", "model", "--since", since, "--json").stdout)
    assert [(r["key"], r["entries"]) for r in recent["rows"]] == [("claude-sonnet-4-6", 2)]
    table = run(attune_cmd, env, "usage", "--by", "project").stdout.splitlines()
    assert table[0].split()[:2] == ["PROJECT", "TOKENS"] and table[2].split()[:2] == ["/w/old", "150"]


def test_an_unknown_model_is_said_to_have_no_price(attune_cmd, cli_env, claude_logs: ClaudeLogs) -> None:
    claude_logs.write(claude_logs.session_path(), claude_logs.message(datetime.now(UTC), model="claude-next-1"))
    out = run(attune_cmd, cli_env_for(cli_env, claude_logs), "usage", "--by", "model").stdout
    assert "claude-next-1" in out and "No price for claude-next-1" in out
    doc = json.loads(run(attune_cmd, cli_env_for(cli_env, claude_logs), "usage", "--json").stdout)
    assert doc["total"]["cost_usd"] is None and doc["total"]["unpriced_models"] == ["claude-next-1"]


def test_bad_since_is_a_usage_error(attune_cmd, cli_env) -> None:
    for bad in ("yesterday", "2026-13-01", ""):
        result = run(attune_cmd, cli_env, "usage", "--since", bad)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "--since" in result.stderr and "YYYY-MM-DD" in result.stderr


def test_a_second_run_reads_only_what_is_new(attune_cmd, cli_env, claude_logs: ClaudeLogs) -> None:
    path = claude_logs.session_path()
    claude_logs.write(path, claude_logs.message(datetime.now(UTC)))
    env = cli_env_for(cli_env, claude_logs)
    assert json.loads(run(attune_cmd, env, "usage", "--json").stdout)["total"]["entries"] == 1
    claude_logs.write(path, claude_logs.message(datetime.now(UTC)), "half a li")
    assert json.loads(run(attune_cmd, env, "usage", "--json").stdout)["total"]["entries"] == 2
