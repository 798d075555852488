"""After `attune calibrate`, every estimate a user sees uses the calibrated figures and
says so: `attune auth recommend`, `attune scan` and `attune run`'s preview. The loop
runs for real: the CLI in subprocesses, the real SDK against the loopback fake API
(realistic mode: one token per 3.6 bytes)."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

import pytest

from attune.models.calibration import calibration_path

DEADLINE_S = 120  # a wait that only ends a broken test; nothing is timed against it


def attune(cmd: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cmd, *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=DEADLINE_S
    )


def as_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def calibrated(attune_cmd: list[str], api_env: dict[str, str], stdlib_tree: Path) -> dict[str, str]:
    as_json(attune(attune_cmd, api_env, "calibrate", str(stdlib_tree), "--yes", "--json"))
    # a language the calibration has not seen
    (stdlib_tree / "app.js").write_text("// an app\nconst a = 1;\n\nfunction f(x) {\n  return x + a;\n}\n")
    return api_env


def test_recommend_uses_the_calibrated_rate_of_the_files_language(attune_cmd, calibrated, stdlib_tree):
    module = sorted(stdlib_tree.glob("*.py"))[0]
    before = as_json(attune(attune_cmd, calibrated, "auth", "recommend", str(stdlib_tree / "app.js"), "--json"))
    assert before["tokens_basis"] == "default 4 tokens/line" and before["calibrated"] is False
    row = as_json(attune(attune_cmd, calibrated, "auth", "recommend", str(module), "--json"))
    assert row["calibrated"] is True
    assert row["tokens_basis"] == "calibrated: Python, 12 files"
    # the fake's tokenizer: one token per 3.6 bytes; calibration learned it
    exact = math.ceil(module.stat().st_size / 3.6)
    assert abs(row["tokens"] - exact) <= 0.03 * exact
    assert row["tokens_low"] <= row["tokens"] <= row["tokens_high"]
    text = attune(attune_cmd, calibrated, "auth", "recommend", str(module)).stdout
    assert "tokens (calibrated: Python, 12 files)" in text


def test_scan_says_what_each_files_tokens_rest_on(attune_cmd, calibrated, stdlib_tree):
    doc = as_json(attune(attune_cmd, calibrated, "scan", str(stdlib_tree), "--json"))
    bases = {row["path"]: row["tokens_basis"] for row in doc["files"]}
    assert bases.pop("app.js") == "default 4 tokens/line"
    assert set(bases.values()) == {"calibrated: Python, 12 files"}
    table = attune(attune_cmd, calibrated, "scan", str(stdlib_tree)).stdout
    assert "Tokens: 12 files (calibrated: Python, 12 files); 1 file (default 4 tokens/line)" in table


def test_a_corrupt_calibration_file_is_reported_kept_and_the_defaults_used(attune_cmd, cli_env, stdlib_tree):
    path = calibration_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"schema_version": 1, "languages": {"Python": 12}}')
    before = path.read_bytes()
    result = attune(attune_cmd, cli_env, "auth", "recommend", str(sorted(stdlib_tree.glob("*.py"))[0]), "--json")
    row = as_json(result)
    assert row["tokens_basis"] == "default 4 tokens/line"
    warning = [line for line in result.stderr.splitlines() if line.startswith("attune: warning:")]
    assert len(warning) == 1 and str(path) in warning[0] and "defaults" in warning[0]
    doc = as_json(attune(attune_cmd, cli_env, "scan", str(stdlib_tree), "--json"))
    assert str(path) in doc["calibration_problem"]
    assert path.read_bytes() == before


def test_run_preview_prices_the_stages_with_ratios_learned_from_runs(attune_cmd, calibrated, stdlib_tree):
    module = str(sorted(stdlib_tree.glob("*.py"))[1])
    plain = as_json(attune(attune_cmd, calibrated, "run", "explain", module, "--mode", "api", "--dry-run", "--json"))
    assert plain["estimate"]["calibrated_stages"] == []
    as_json(attune(attune_cmd, calibrated, "run", "explain", module, "--mode", "api", "--yes", "--json"))
    learned = as_json(attune(attune_cmd, calibrated, "calibrate", "--from-runs", "--json"))
    assert learned["updated_languages"] == []  # rates from one run do not replace the exact counts
    tuned = as_json(attune(attune_cmd, calibrated, "run", "explain", module, "--mode", "api", "--dry-run", "--json"))
    estimate = tuned["estimate"]
    assert estimate["calibrated_stages"] == [s["stage"] for s in estimate["stages"]]
    assert estimate["tokens_basis"] == "calibrated: Python, 12 files"
    assert estimate["api_cost"] != plain["estimate"]["api_cost"]
    preview = attune(attune_cmd, calibrated, "run", "explain", module, "--mode", "api", "--dry-run").stdout
    assert "tokens (calibrated: Python, 12 files); outputs of map, explain calibrated from past runs" in preview
