"""`attune runs` and `attune runs show ID` end to end, and `--task` on recommend and scan."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from attune.models import AuthStrategy, estimate_task, get_telemetry_store

STRATEGY = AuthStrategy(subscription_tier="pro")


def run(cmd: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cmd, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def record_run(task: str, path: str, factor: float | None, *, mode: str = "api", status: str = "ok") -> str:
    """A run as the runner records it; ``factor`` scales the actual against the
    estimate (None: no stage ran)."""
    store = get_telemetry_store()
    estimate = estimate_task(task, lines=800, mode=mode, strategy=STRATEGY)
    run_id = store.start_run(task, path, 800, mode, "Medium module (800 lines)", estimate)
    if factor is not None:
        for index, stage in enumerate(estimate.stages):
            store.record_stage(
                run_id, index, stage.stage, stage.model,
                input_tokens=round(stage.input_tokens * factor), output_tokens=round(stage.output_tokens * factor),
                cost=stage.cost * factor, api_equivalent_cost=stage.api_cost * factor, elapsed_ms=2_000.0,
                status="ok",
            )  # fmt: skip
    if status != "running":
        store.finish_run(run_id, status, None if status == "ok" else "ProviderError")
    return run_id


def test_no_runs_yet_creates_nothing(attune_cmd, cli_env, attune_home: Path) -> None:
    before = sorted(attune_home.rglob("*"))
    text = run(attune_cmd, cli_env, "runs")
    assert text.returncode == 0 and "No runs yet" in text.stdout
    doc = json.loads(run(attune_cmd, cli_env, "runs", "--json").stdout)
    assert doc == {"schema_version": 1, "runs": [], "median_error_by_task": {}}
    assert sorted(attune_home.rglob("*")) == before


def test_the_list_shows_estimate_actual_error_and_the_median_per_task(attune_cmd, cli_env) -> None:
    first = record_run("document", "/w/src/a.py", 1.1)
    record_run("document", "/w/src/b.py", 1.3)
    record_run("review", "/w/src/a.py", 0.8, mode="subscription")
    dead = record_run("tests", "/w/src/c.py", None, status="running")
    result = run(attune_cmd, cli_env, "runs")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "ID",
        "STARTED",
        "(UTC)",
        "TASK",
        "FILE",
        "MODE",
        "STATUS",
        "ESTIMATE",
        "ACTUAL",
        "ERROR",
    ]
    assert dead[:8] in lines[1] and "running" in lines[1]  # the newest first
    assert first[:8] in lines[4] and "+10.0%" in lines[4]
    assert "subscription" in lines[2] and "-20.0%" in lines[2]
    assert "  document   +20.0% over 2 run(s)" in result.stdout
    assert "  review     -20.0% over 1 run(s)" in result.stdout
    assert "tests " not in result.stdout.split("per task:")[1]  # a running run has no error yet

    doc = json.loads(run(attune_cmd, cli_env, "runs", "--json").stdout)
    assert [r["task"] for r in doc["runs"]] == ["tests", "review", "document", "document"]
    assert doc["median_error_by_task"] == {
        "document": {"median_error_pct": 20.0, "runs": 2},
        "review": {"median_error_pct": -20.0, "runs": 1},
    }
    assert doc["runs"][3]["run_id"] == first and doc["runs"][3]["error_pct"] == 10.0

    only = json.loads(run(attune_cmd, cli_env, "runs", "--json", "--file", "/w/src/a.py", "--task", "document").stdout)
    assert [r["run_id"] for r in only["runs"]] == [first]


def test_show_prints_one_run_stage_by_stage(attune_cmd, cli_env) -> None:
    run_id = record_run("review", "/w/src/a.py", 1.25)
    result = run(attune_cmd, cli_env, "runs", "show", run_id[:8])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Run {run_id}" in out and "Task:      review" in out and "Status:    ok" in out
    assert "Error:     +25.0%" in out
    stage_lines = [line for line in out.splitlines() if line.startswith(("1 ", "2 "))]
    assert "scan" in stage_lines[0] and "claude-haiku-4-5" in stage_lines[0]
    assert "review" in stage_lines[1] and "claude-sonnet-4-6" in stage_lines[1] and "+25.0%" in stage_lines[1]
    estimate = estimate_task("review", lines=800, mode="api", strategy=STRATEGY)
    scan = estimate.stages[0]
    assert f"{scan.input_tokens:,}/{scan.output_tokens:,}" in stage_lines[0]
    assert f"{round(scan.input_tokens * 1.25):,}/{round(scan.output_tokens * 1.25):,}" in stage_lines[0]

    doc = json.loads(run(attune_cmd, cli_env, "runs", "show", run_id, "--json").stdout)
    assert doc["schema_version"] == 1 and doc["run"]["run_id"] == run_id
    assert [s["stage"] for s in doc["run"]["stages"]] == ["scan", "review"]
    assert doc["run"]["stages"][1]["estimate"]["input_tokens"] == estimate.stages[1].input_tokens


def test_a_run_left_running_says_so(attune_cmd, cli_env) -> None:
    run_id = record_run("explain", "x.py", None, status="running")
    out = run(attune_cmd, cli_env, "runs", "show", run_id).stdout
    assert "Status:    running (not finished" in out and "pending" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("runs", "show"), "usage: attune runs"),
        (("runs", "list", "x"), "usage: attune runs"),
        (("runs", "show", "abcd", "--file", "a.py"), "takes neither"),
        (("runs", "--limit", "0"), "--limit must be from 1"),
        (("runs", "--task", "translate"), "invalid choice"),
    ],
)
def test_bad_arguments_are_usage_errors(attune_cmd, cli_env, args, message) -> None:
    result = run(attune_cmd, cli_env, *args)
    assert result.returncode == 2 and message in result.stderr


def test_an_unknown_run_is_one_line_and_exit_1(attune_cmd, cli_env) -> None:
    record_run("review", "a.py", 1.0)
    result = run(attune_cmd, cli_env, "runs", "show", "ffffffff")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "attune: no run 'ffffffff' (or more than one starts so); `attune runs` lists them"
    ]


# ---- --task on recommend and scan ---------------------------------------------------


def source(tmp_path: Path, lines: int) -> Path:
    path = tmp_path / "mod.py"
    path.write_text("".join(f"x{i} = {i}\n" for i in range(lines)))
    return path


def test_recommend_prices_the_task_asked_for(attune_cmd, cli_env, tmp_path: Path) -> None:
    path = source(tmp_path, 300)
    default = json.loads(run(attune_cmd, cli_env, "auth", "recommend", str(path), "--json").stdout)
    review = json.loads(run(attune_cmd, cli_env, "auth", "recommend", str(path), "--task", "review", "--json").stdout)
    assert default["task"] == "document" and review["task"] == "review"
    strategy = AuthStrategy()
    assert default["monetary_cost"] == strategy.estimate_cost(300, "api")["monetary_cost"]
    expected = round(estimate_task("review", lines=300, mode="api", strategy=strategy).total_cost, 6)
    assert review["monetary_cost"] == expected != default["monetary_cost"]
    text = run(attune_cmd, cli_env, "auth", "recommend", str(path), "--task", "tests").stdout
    assert "Task:          tests — Write unit tests" in text
    assert "Task:" not in run(attune_cmd, cli_env, "auth", "recommend", str(path)).stdout


def test_scan_prices_the_task_asked_for(attune_cmd, cli_env, tmp_path: Path) -> None:
    source(tmp_path, 120)
    doc = json.loads(run(attune_cmd, cli_env, "scan", str(tmp_path), "--task", "explain", "--json").stdout)
    assert doc["task"] == "explain" and [r["task"] for r in doc["files"]] == ["explain"]
    expected = round(estimate_task("explain", lines=120, mode="api", strategy=AuthStrategy()).total_cost, 6)
    assert doc["files"][0]["monetary_cost"] == expected == doc["totals"]["monetary_cost"]
    assert run(attune_cmd, cli_env, "scan", str(tmp_path), "--task", "explain").stdout.startswith("Task: explain")


def test_the_cli_knows_every_task() -> None:
    from attune.cli.common import TASK_CHOICES
    from attune.models import task_names

    assert task_names() == TASK_CHOICES
