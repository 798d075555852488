"""The bounds of docs/limits.md as a user meets them: a usage error (exit 2, one line
naming what is wrong) where a value enters, never an OverflowError later."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest


def run(cmd, env, *args):
    return subprocess.run([*cmd, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def one_line_usage_error(result: subprocess.CompletedProcess[str], *says: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr and "OverflowError" not in result.stderr
    assert all(word in lines[-1] for word in says), result.stderr


def write_module(tmp_path: Path, lines: int = 3) -> Path:
    module = tmp_path / "mod.py"
    module.write_text("".join(f"x{i} = {i}\n" for i in range(lines)))
    return module


def test_setup_refuses_a_huge_multiplier_and_later_commands_still_work(attune_cmd, cli_env, attune_home, tmp_path):
    module = write_module(tmp_path)
    r = run(attune_cmd, cli_env, "auth", "setup", "--tier", "pro", "--multiplier", "1e308")
    one_line_usage_error(r, "loc_to_tokens_multiplier", "100")
    assert not (attune_home / "auth_strategy.json").exists()
    r = run(attune_cmd, cli_env, "auth", "recommend", str(module), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["tokens"] == 12


def test_setup_refuses_thresholds_out_of_range_naming_the_field(attune_cmd, cli_env, attune_home):
    r = run(attune_cmd, cli_env, "auth", "setup", "--tier", "pro", "--medium-threshold", "10000001")
    one_line_usage_error(r, "medium_module_threshold", "10000000")
    r = run(attune_cmd, cli_env, "auth", "setup", "--tier", "pro", "--multiplier", "0.01")
    one_line_usage_error(r, "loc_to_tokens_multiplier", "0.1")
    r = run(
        attune_cmd,
        cli_env,
        "auth",
        "setup",
        "--tier",
        "pro",
        "--small-threshold",
        "9999999",
        "--medium-threshold",
        "10000000",
        "--multiplier",
        "100",
    )
    assert r.returncode == 0, r.stderr


def test_a_strategy_file_out_of_range_is_reported_as_invalid_by_every_command(
    attune_cmd, cli_env, attune_home, tmp_path
):
    module = write_module(tmp_path, lines=50)
    path = attune_home / "auth_strategy.json"
    path.write_text(json.dumps({"subscription_tier": "pro", "loc_to_tokens_multiplier": 1e308}))
    before = path.read_bytes()
    for args in (("auth", "recommend", str(module)), ("scan", str(tmp_path)), ("auth", "status")):
        r = run(attune_cmd, cli_env, *args)
        assert r.returncode == 1, (args, r.stderr)
        assert "loc_to_tokens_multiplier" in r.stderr and "OverflowError" not in r.stderr, r.stderr
        assert str(path) in r.stderr
    assert path.read_bytes() == before


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_scan_jobs_is_capped_at_the_cpus_the_process_may_use(attune_cmd, cli_env, tmp_path):
    for i in range(250):
        (tmp_path / f"m{i}.py").write_text(f"x = {i}\n")
    one_cpu = min(os.sched_getaffinity(0))
    r = subprocess.run(
        [*attune_cmd, "scan", str(tmp_path), "--jobs", "100000", "--json", "-v"],
        env=cli_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.sched_setaffinity(0, {one_cpu}),
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["totals"]["files"] == 250
    assert "counting 250 file(s) in 1 process(es) (at most 1" in r.stderr, r.stderr


def test_scan_jobs_below_one_is_a_usage_error(attune_cmd, cli_env, tmp_path):
    for jobs in ("0", "-4"):
        one_line_usage_error(run(attune_cmd, cli_env, "scan", str(tmp_path), "--jobs", jobs), "--jobs")


# ---- attune routing: its options and the records it reads ---------------------------


def test_routing_options_out_of_range_are_usage_errors(attune_cmd, cli_env):
    for args, says in (
        (("stats", "--days", "800000"), "--days"),
        (("stats", "docs", "--days", "800000"), "--days"),
        (("stats", "--days", "1e400"), "--days"),
        (("stats", "--days", "0"), "--days"),
        (("best", "docs", "write", "--max-cost", "1e308"), "--max-cost"),
        (("best", "docs", "write", "--max-latency-ms", "1e308"), "--max-latency-ms"),
        (("best", "docs", "write", "--min-success-rate", "nan"), "--min-success-rate"),
    ):
        one_line_usage_error(run(attune_cmd, cli_env, "routing", *args), says)
    r = run(attune_cmd, cli_env, "routing", "stats", "docs", "--days", "36500", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["total_calls"] == 0


def test_records_at_every_bound_are_stored_and_reported(attune_cmd, cli_env):
    from datetime import UTC, datetime, timedelta

    from attune.models import LLMCallRecord, get_telemetry_store
    from attune.models.telemetry.records import MAX_COST, MAX_LATENCY_MS, MAX_TOKENS

    calls = 12  # enough to be ranked: the router scores them too
    now = datetime.now(UTC)
    get_telemetry_store().record_calls(
        LLMCallRecord(
            workflow="docs",
            stage="write",
            provider="anthropic",
            tier="cheap",
            model_id="claude-haiku-4-5",
            success=True,
            tokens_input=MAX_TOKENS,
            tokens_output=MAX_TOKENS,
            cost=MAX_COST,
            latency_ms=MAX_LATENCY_MS,
            timestamp=now + timedelta(hours=23) if i % 2 else now - timedelta(days=365 * 50),
        )
        for i in range(calls)
    )
    r = run(attune_cmd, cli_env, "routing", "stats", "docs", "--days", "36500", "--json")
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    model = stats["performance_by_model"]["claude-haiku-4-5"]
    assert stats["total_calls"] == calls
    assert model["tokens_input"] == calls * MAX_TOKENS and model["total_cost"] == calls * MAX_COST
    assert model["avg_latency_ms"] == MAX_LATENCY_MS
    assert run(attune_cmd, cli_env, "routing", "stats", "docs").returncode == 0
    r = run(attune_cmd, cli_env, "routing", "best", "docs", "write", "--json")
    assert r.returncode == 0, r.stderr


def test_a_stored_call_past_the_bounds_still_reads_back(attune_cmd, cli_env):
    """A row written before the bounds, or by a clock that has since been set back."""
    import sqlite3
    from datetime import UTC, datetime, timedelta

    from attune.models import get_telemetry_store
    from attune.models._internal import paths

    store = get_telemetry_store()
    ahead_ms = int((datetime.now(UTC) + timedelta(days=10)).timestamp() * 1000)
    store.close()
    with sqlite3.connect(paths.telemetry_db_path()) as conn:
        conn.executemany(
            "INSERT INTO llm_calls (ts_ms, workflow, stage, task_type, provider, tier, model_id, success, "
            "error_type, latency_ms, tokens_input, tokens_output, cost) VALUES (?, 'docs', 'write', 'x', "
            "'anthropic', 'cheap', 'claude-haiku-4-5', 1, NULL, 5e8, 3000000000, 10, 2e6)",
            [(ahead_ms,)] * 10,
        )
    conn.close()
    r = run(attune_cmd, cli_env, "routing", "stats", "docs", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["performance_by_model"]["claude-haiku-4-5"]["recent_failures"] == 0


@pytest.mark.parametrize("name", ["auth_strategy.json", "pricing.json"])
def test_a_number_too_long_for_the_json_parser_is_an_invalid_file(attune_cmd, cli_env, attune_home, tmp_path, name):
    # Python refuses to convert integers of over 4,300 digits: a ValueError that is not a JSONDecodeError
    body = {
        "auth_strategy.json": '{"subscription_tier": "pro", "small_module_threshold": ' + "9" * 5000 + "}",
        "pricing.json": '{"models": {"claude-sonnet-4-6": {"input": ' + "9" * 5000 + ', "output": 1}}}',
    }[name]
    (attune_home / name).write_text(body)
    source = tmp_path / "m.py"
    source.write_text("x = 1\n")
    command = [*attune_cmd, "auth", "recommend", str(source)]
    result = subprocess.run(command, env=cli_env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert name in result.stderr and "JSON" in result.stderr and "unexpected" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (attune_home / name).read_text() == body  # kept as it is
