"""`attune calibrate` end to end: the CLI in a subprocess, the real SDK against the
loopback fake API (realistic mode: one token per 3.6 bytes), the real telemetry
store and strategy files under ATTUNE_HOME."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from attune.models import run_task
from attune.models.calibration import calibration_path, load_calibration
from attune.models.strategy.model import AuthStrategy
from support.fake_anthropic import (
    BYTES_PER_TOKEN,
    COUNT_TOKENS_PATH,
    TEST_API_KEY,
    ok,
    rate_limited,
)

DEADLINE_S = 120  # a wait that only ends a broken test; nothing is timed against it


def attune(cmd: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cmd, "calibrate", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,  # not a terminal
        timeout=DEADLINE_S,
    )


def as_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema_version"] == 1
    return data


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("attune:")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_without_a_terminal_and_without_yes_nothing_is_uploaded(attune_cmd, api_env, realistic_api, stdlib_tree):
    result = attune(attune_cmd, api_env, str(stdlib_tree))
    assert result.returncode == 2
    assert "--yes" in _one_line(result.stderr) and "consent" in result.stderr
    assert realistic_api.requests_to(COUNT_TOKENS_PATH) == []
    assert not calibration_path().exists()


def test_a_missing_key_is_one_line_and_exit_1(attune_cmd, cli_env, realistic_api, stdlib_tree):
    env = {**cli_env, "ANTHROPIC_BASE_URL": realistic_api.base_url}
    result = attune(attune_cmd, env, str(stdlib_tree), "--yes")
    assert result.returncode == 1
    assert "ANTHROPIC_API_KEY" in _one_line(result.stderr)
    assert realistic_api.requests == []


def test_calibrate_counts_the_sample_and_keeps_it(attune_cmd, api_env, realistic_api, stdlib_tree):
    data = as_json(attune(attune_cmd, api_env, str(stdlib_tree), "--yes", "--sample", "8", "--json"))

    assert data["counted"] == 8 and data["stopped"] is None
    assert data["updated_languages"] == ["Python"]
    python = data["languages"]["Python"]
    assert python["tokens_per_byte"]["value"] == pytest.approx(1 / BYTES_PER_TOKEN, rel=0.03)
    assert python["files"] == 8 and python["source"] == "count_tokens" and python["sampled_from"] == str(stdlib_tree)
    assert data["multiplier"]["value"] == pytest.approx(python["tokens_per_line"]["value"], abs=0.01)
    assert data["multiplier"]["applied"] is False
    assert load_calibration().languages["Python"].files == 8
    assert len(realistic_api.requests_to(COUNT_TOKENS_PATH)) == 9  # the framing probe and 8 files


def test_the_text_report_names_the_rates_and_the_file(attune_cmd, api_env, stdlib_tree):
    result = attune(attune_cmd, api_env, str(stdlib_tree), "--yes", "--sample", "3")
    assert result.returncode == 0, result.stderr
    assert "Python *" in result.stdout and "TOKENS/BYTE" in result.stdout
    assert f"Saved to {calibration_path()}" in result.stdout
    assert "counted 3/3 files" in result.stderr  # progress on stderr


def test_a_corrupt_calibration_file_is_reported_kept_and_reset_moves_it_aside(
    attune_cmd, api_env, realistic_api, stdlib_tree
):
    path = calibration_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"schema_version": 1, "languages": 3')

    result = attune(attune_cmd, api_env, str(stdlib_tree), "--yes")
    assert result.returncode == 1
    line = _one_line(result.stderr)
    assert str(path) in line and "not valid JSON" in line and "--reset" in line
    assert path.read_bytes() == b'{"schema_version": 1, "languages": 3'
    assert realistic_api.requests_to(COUNT_TOKENS_PATH) == []  # stopped before any upload

    data = as_json(attune(attune_cmd, api_env, str(stdlib_tree), "--yes", "--sample", "2", "--reset", "--json"))
    moved = Path(data["reset_moved_to"])
    assert moved.parent == path.parent and moved.name.startswith("calibration.json.corrupt-")
    assert moved.read_bytes() == b'{"schema_version": 1, "languages": 3'
    assert load_calibration().languages["Python"].files == 2


def test_apply_writes_the_multiplier_after_a_backup(attune_cmd, api_env, attune_home, stdlib_tree):
    AuthStrategy(loc_to_tokens_multiplier=4.0, setup_completed=True).save()

    data = as_json(attune(attune_cmd, api_env, str(stdlib_tree), "--yes", "--sample", "6", "--apply", "--json"))

    multiplier = data["multiplier"]
    assert multiplier["applied"] is True and multiplier["previous"] == 4.0
    assert AuthStrategy.load().loc_to_tokens_multiplier == multiplier["value"] != 4.0
    backup = json.loads(Path(multiplier["backup"]).read_text())
    assert backup["loc_to_tokens_multiplier"] == 4.0
    assert Path(multiplier["backup"]).parent == attune_home / "backups"


def test_apply_without_a_strategy_file_backs_up_the_defaults(attune_cmd, api_env, stdlib_tree):
    result = attune(attune_cmd, api_env, str(stdlib_tree), "--yes", "--sample", "2", "--apply")
    assert result.returncode == 0, result.stderr
    assert "Applied: loc_to_tokens_multiplier 4 -> " in result.stdout and "backup: " in result.stdout
    assert AuthStrategy.load().loc_to_tokens_multiplier != 4.0


def test_a_lasting_rate_limit_stops_and_keeps_what_was_counted(attune_cmd, api_env, realistic_api, stdlib_tree):
    realistic_api.enqueue(
        *[ok(path=COUNT_TOKENS_PATH)] * 4, *[rate_limited(0, path=COUNT_TOKENS_PATH) for _ in range(6)]
    )
    result = attune(attune_cmd, api_env, str(stdlib_tree), "--yes", "--sample", "6", "--apply")
    assert result.returncode == 1
    line = _one_line(result.stderr)
    assert "stopped early" in line and "rate limit" in line and "3 file(s) counted so far are kept" in line
    assert "Not applied: counting stopped early." in result.stdout
    assert load_calibration().languages["Python"].files == 3
    assert not AuthStrategy.load().setup_completed  # nothing applied, no strategy written


def test_from_runs_learns_output_ratios_without_uploading(attune_cmd, api_env, realistic_api, stdlib_tree, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", realistic_api.base_url)
    for module in sorted(stdlib_tree.glob("*.py"))[:2]:
        assert run_task("explain", module).status == "ok"
    env = {k: v for k, v in api_env.items() if k != "ANTHROPIC_API_KEY"}  # no key needed

    data = as_json(attune(attune_cmd, env, "--from-runs", "--json"))

    assert data["runs_read"] == 2 and data["counted"] == 0
    assert set(data["output_ratios"]) == {"explain/map", "explain/explain"}
    assert data["output_ratios"]["explain/map"]["runs"] == 2
    assert data["output_ratios"]["explain/map"]["base_tokens"] == 0  # too few runs for a line: the median ratio
    assert data["updated_languages"] == ["Python"]
    assert data["languages"]["Python"]["source"] == "runs"
    assert realistic_api.requests_to(COUNT_TOKENS_PATH) == []
    assert set(load_calibration().output_ratios) == {"explain/map", "explain/explain"}


def test_a_bad_sample_size_is_a_usage_error(attune_cmd, api_env):
    result = attune(attune_cmd, api_env, "--sample", "0", "--yes")
    assert result.returncode == 2 and "--sample" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal needs POSIX")
@pytest.mark.parametrize(("answer", "uploads"), [("n", 0), ("y", 1 + 2)])
def test_on_a_terminal_it_asks_before_uploading(attune_cmd, api_env, realistic_api, stdlib_tree, answer, uploads):
    import os
    import pty

    primary, terminal = pty.openpty()
    try:
        os.write(primary, f"{answer}\n".encode())
        result = subprocess.run(
            [*attune_cmd, "calibrate", str(stdlib_tree), "--sample", "2"],
            env=api_env,
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=DEADLINE_S,
        )
    finally:
        os.close(terminal)
        os.close(primary)
    assert result.returncode == 0, result.stderr
    assert "Upload 2 files (" in result.stderr and "KB) of source code to Anthropic's count_tokens" in result.stderr
    assert len(realistic_api.requests_to(COUNT_TOKENS_PATH)) == uploads
    assert ("Nothing was uploaded." in result.stderr) == (answer == "n")
