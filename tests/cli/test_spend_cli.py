"""`attune spend` through real subprocesses: this machine's SQLite store, and a team's
real PostgreSQL with calls still waiting in the outbox."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from attune.models import LLMCallRecord, get_telemetry_store
from attune.models.telemetry.outbox import Outbox, outbox_path
from attune.models.telemetry.queries import call_row

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def spend(attune_cmd: list[str], cli_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*attune_cmd, *args], env=cli_env, capture_output=True, text=True, timeout=60)


def calls() -> list[LLMCallRecord]:
    """Ada: 3 calls on Sonnet two days ago, one failed; Bob: 2 on Haiku today (one in `run:tests`)."""
    two_days_ago = TODAY - timedelta(days=2) + timedelta(hours=9)
    model = {"provider": "anthropic"}
    ada = [
        LLMCallRecord("docs", "write", "summarize", tier="capable", model_id="claude-sonnet-4-6", success=i != 0,
                      error_type=None if i else "server", tokens_input=1000, tokens_output=200, cost=0.25,
                      timestamp=two_days_ago + timedelta(minutes=i), user="ada@example.com", **model)
        for i in range(3)
    ]  # fmt: skip
    just_now = datetime.now(UTC) - timedelta(minutes=5)
    bob = [
        LLMCallRecord(workflow, "review", "generate_code", tier="cheap", model_id="claude-haiku-4-5", success=True,
                      tokens_input=500, tokens_output=100, cost=0.01, timestamp=just_now,
                      user="bob@example.com", **model)
        for workflow in ("docs", "run:tests")
    ]  # fmt: skip
    return ada + bob


def test_spend_per_user_model_day_and_task_from_this_machines_store(attune_cmd, cli_env) -> None:
    get_telemetry_store().record_calls(calls())

    by_user = json.loads(spend(attune_cmd, cli_env, "spend", "--json").stdout)
    assert by_user["by"] == "user"
    assert [(r["key"], r["calls"], r["failures"], r["cost"]) for r in by_user["rows"]] == [
        ("ada@example.com", 3, 1, 0.75),
        ("bob@example.com", 2, 0, 0.02),
    ]
    assert by_user["total"]["calls"] == 5 and by_user["total"]["tokens_input"] == 4000

    by_day = json.loads(spend(attune_cmd, cli_env, "spend", "--by", "day", "--json").stdout)["rows"]
    assert [(r["key"], r["calls"]) for r in by_day] == [
        ((TODAY - timedelta(days=2)).date().isoformat(), 3),
        (TODAY.date().isoformat(), 2),
    ]
    by_task = json.loads(spend(attune_cmd, cli_env, "spend", "--by", "task", "--json").stdout)["rows"]
    assert {r["key"]: r["calls"] for r in by_task} == {"summarize": 3, "generate_code": 2}
    since_today = spend(attune_cmd, cli_env, "spend", "--by", "workflow", "--since", TODAY.date().isoformat(), "--json")
    assert {r["key"]: r["calls"] for r in json.loads(since_today.stdout)["rows"]} == {"docs": 1, "run:tests": 1}

    text = spend(attune_cmd, cli_env, "spend", "--by", "model")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("API spend from ") and "by model" in lines[0]
    assert lines[1].split() == ["MODEL", "CALLS", "FAILED", "INPUT", "TOKENS", "OUTPUT", "TOKENS", "COST"]
    assert lines[2].split()[:3] == ["claude-sonnet-4-6", "3", "1"]
    assert lines[-1].split()[:2] == ["TOTAL", "5"]


def test_no_calls_and_bad_dates_get_one_line(attune_cmd, cli_env) -> None:
    empty = spend(attune_cmd, cli_env, "spend")
    assert empty.returncode == 0 and empty.stdout.startswith("No API calls recorded from ")
    bad = spend(attune_cmd, cli_env, "spend", "--since", "last week")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "attune: --since: expected a date (YYYY-MM-DD) or an ISO 8601 time, got 'last week'"
    ]
    backwards = spend(attune_cmd, cli_env, "spend", "--since", "2026-11-02", "--until", "2026-11-01")
    assert backwards.returncode == 2 and "must be after --since" in backwards.stderr
    scheme = spend(attune_cmd, cli_env, "--telemetry", "mysql://db/x", "spend")
    assert scheme.returncode == 1 and "unknown scheme 'mysql'" in scheme.stderr


@pytest.mark.usefixtures("postgres_server")
def test_a_teams_spend_from_postgresql_includes_calls_still_in_the_outbox(
    attune_cmd, cli_env, postgres_url: str
) -> None:
    waiting = Outbox(outbox_path(postgres_url))  # as a process that exited during an outage left them
    waiting.add([call_row(c) for c in calls()])

    done = spend(attune_cmd, cli_env, "spend", "--telemetry", postgres_url, "--by", "user", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["telemetry"] == postgres_url
    assert {r["key"]: r["calls"] for r in document["rows"]} == {"ada@example.com": 3, "bob@example.com": 2}
    assert waiting.pending() == 0

    env = {**cli_env, "ATTUNE_TELEMETRY_URL": postgres_url}  # the variable does what the option does
    again = json.loads(spend(attune_cmd, env, "spend", "--by", "model", "--json").stdout)
    assert {r["key"]: r["calls"] for r in again["rows"]} == {"claude-sonnet-4-6": 3, "claude-haiku-4-5": 2}
    stats = spend(attune_cmd, env, "routing", "stats", "--json")  # the router reads the team's calls too
    assert {w["workflow"]: w["calls"] for w in json.loads(stats.stdout)["workflows"]} == {"docs": 4, "run:tests": 1}


def test_an_unreachable_server_is_one_line_without_the_password(attune_cmd, cli_env) -> None:
    done = spend(attune_cmd, cli_env, "spend", "--telemetry", "postgresql://team:hunter2@127.0.0.1:1/attune")
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("attune: postgresql://team:***@127.0.0.1:1/attune: PostgreSQL")
    assert "hunter2" not in done.stderr + done.stdout
