"""`attune routing …` through real subprocesses, reading the ATTUNE_HOME telemetry store."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from attune.models import LLMCallRecord, get_telemetry_store

HAIKU, SONNET = "claude-haiku-4-5", "claude-sonnet-4-6"


def run(attune_cmd: list[str], cli_env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*attune_cmd, "routing", *args], env=cli_env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def history(attune_home: Path) -> None:
    """Calls in the store every process of this ATTUNE_HOME shares."""
    now = datetime.now(UTC)

    def calls(
        model: str, tier: str, n: int, failures: int, latency: float, cost: float, stage: str = "review"
    ) -> list[LLMCallRecord]:
        return [
            LLMCallRecord(
                "docs",
                stage,
                "review_security",
                "anthropic",
                tier,
                model,
                success=i >= failures,
                error_type=None if i >= failures else "server",
                latency_ms=latency,
                tokens_input=900,
                tokens_output=100,
                cost=cost,
                timestamp=now - timedelta(minutes=i + 1),
            )
            for i in range(n)
        ]

    store = get_telemetry_store()
    store.record_calls(
        calls(HAIKU, "cheap", 30, 3, 400.0, 0.001)
        + calls(SONNET, "capable", 20, 0, 1200.0, 0.01)
        + calls(SONNET, "capable", 12, 0, 1000.0, 0.01, stage="write")
    )


def test_stats_json_reports_what_the_store_holds(history: None, attune_cmd: list[str], cli_env: dict[str, str]) -> None:
    result = run(attune_cmd, cli_env, "stats", "docs", "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["total_calls"] == 62
    assert stats["models_used"] == [SONNET, HAIKU]
    assert stats["avg_success_rate"] == pytest.approx(59 / 62)
    assert stats["performance_by_model"][HAIKU]["success_rate"] == pytest.approx(0.9)

    one_stage = json.loads(run(attune_cmd, cli_env, "stats", "docs", "--stage", "write", "--json").stdout)
    assert one_stage["total_calls"] == 12 and one_stage["models_used"] == [SONNET]


def test_stats_as_text_lists_each_model(history: None, attune_cmd: list[str], cli_env: dict[str, str]) -> None:
    result = run(attune_cmd, cli_env, "stats", "docs", "--stage", "review", "--days", "2")
    assert result.returncode == 0, result.stderr
    assert "calls: 50" in result.stdout
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("claude")}
    assert "90.0%" in lines[HAIKU] and "100.0%" in lines[SONNET]


def test_stats_without_history_says_so(attune_cmd: list[str], cli_env: dict[str, str]) -> None:
    result = run(attune_cmd, cli_env, "stats", "nothing-yet")
    assert result.returncode == 0, result.stderr
    assert "no calls recorded" in result.stdout


def test_best_prints_the_choice_and_each_exclusion(
    history: None, attune_cmd: list[str], cli_env: dict[str, str]
) -> None:
    result = run(attune_cmd, cli_env, "best", "docs", "review", "--max-latency-ms", "1000")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"model:  {HAIKU}")
    assert f"{SONNET} (anthropic:capable): avg latency 1200 ms > max_latency_ms 1000" in result.stdout


def test_best_fallback_names_the_constraints(history: None, attune_cmd: list[str], cli_env: dict[str, str]) -> None:
    result = run(
        attune_cmd, cli_env, "best", "docs", "review", "--max-cost", "0.0001", "--task-type", "summarize", "--json"
    )
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["fallback"] is True and decision["model_id"] == HAIKU  # cheap tier default
    assert "max_cost=0.0001" in decision["reason"]
    assert {e["model_id"] for e in decision["excluded"]} == {HAIKU, SONNET}
    assert all("max_cost" in e["cause"] for e in decision["excluded"])
    assert "no model meets the constraints" in result.stderr  # the router's WARNING


@pytest.mark.parametrize(
    "args, message",
    [
        (["best", "docs", "review", "--min-success-rate", "1.5"], "min_success_rate"),
        (["stats", "docs", "--days", "0"], "days"),
        (["best", "docs"], "stage"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    attune_cmd: list[str], cli_env: dict[str, str], args: list[str], message: str
) -> None:
    result = run(attune_cmd, cli_env, *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_corrupt_store_is_an_error_naming_the_file(
    attune_home: Path, attune_cmd: list[str], cli_env: dict[str, str]
) -> None:
    db = attune_home / "state" / "telemetry.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"garbage" * 200)
    result = run(attune_cmd, cli_env, "stats", "docs")
    assert result.returncode == 1
    assert str(db) in result.stderr and "Traceback" not in result.stderr
    assert db.read_bytes() == b"garbage" * 200


def test_best_shows_a_model_excluded_by_the_shared_breaker(
    history: None, attune_cmd: list[str], cli_env: dict[str, str]
) -> None:
    from attune.models import get_circuit_breaker

    breaker = get_circuit_breaker()  # the SQLite breaker under the same ATTUNE_HOME
    for _ in range(breaker.failure_threshold):
        breaker.record_failure("anthropic", "cheap", error_type="server")
    result = run(attune_cmd, cli_env, "best", "docs", "review")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"model:  {SONNET}")
    assert f"{HAIKU} (anthropic:cheap): circuit breaker anthropic:cheap is open" in result.stdout


def test_stats_without_a_workflow_lists_the_workflows_with_calls(
    history: None, attune_cmd: list[str], cli_env: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    old = now - timedelta(days=3)
    get_telemetry_store().record_calls(
        [
            LLMCallRecord("chat", "reply", "chat", "anthropic", "cheap", HAIKU, success=True, timestamp=now),
            LLMCallRecord("triage", "sort", "triage", "anthropic", "cheap", HAIKU, success=False, timestamp=old),
        ]
    )
    document = json.loads(run(attune_cmd, cli_env, "stats", "--json").stdout)
    assert document["schema_version"] == 1 and document["days"] == 7
    assert document["workflows"] == [
        {"workflow": "docs", "calls": 62},
        {"workflow": "chat", "calls": 1},
        {"workflow": "triage", "calls": 1},
    ]
    recent = json.loads(run(attune_cmd, cli_env, "stats", "--days", "1", "--json").stdout)
    assert [w["workflow"] for w in recent["workflows"]] == ["docs", "chat"]

    text = run(attune_cmd, cli_env, "stats")
    assert text.returncode == 0, text.stderr
    rows = [line.split() for line in text.stdout.splitlines() if line.startswith("  ")]
    assert rows == [["WORKFLOW", "CALLS"], ["docs", "62"], ["chat", "1"], ["triage", "1"]]


def test_stats_without_a_workflow_and_no_calls_says_so(attune_cmd: list[str], cli_env: dict[str, str]) -> None:
    result = run(attune_cmd, cli_env, "stats")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("no calls recorded in the last 7 days")


def test_stage_without_a_workflow_is_a_usage_error(attune_cmd: list[str], cli_env: dict[str, str]) -> None:
    result = run(attune_cmd, cli_env, "stats", "--stage", "review")
    assert result.returncode == 2 and "--stage needs a WORKFLOW" in result.stderr
