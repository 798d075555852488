"""`attune auth …` through real subprocesses, with ATTUNE_HOME in a temp dir."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pexpect
import pytest


def run(cmd, env, *args, stdin=subprocess.DEVNULL):
    return subprocess.run([*cmd, *args], env=env, stdin=stdin, capture_output=True, text=True, timeout=60)


def strategy_file(home: Path) -> dict:
    return json.loads((home / "auth_strategy.json").read_text())


def test_setup_with_flags_saves_and_status_shows_it(attune_cmd, cli_env, attune_home):
    r = run(
        attune_cmd,
        cli_env,
        "auth",
        "setup",
        "--tier",
        "max",
        "--mode",
        "auto",
        "--no-prefer-subscription",
        "--small-threshold",
        "300",
        "--medium-threshold",
        "1500",
        "--multiplier",
        "3.5",
    )
    assert r.returncode == 0, r.stderr
    saved = strategy_file(attune_home)
    assert saved == {
        "subscription_tier": "max",
        "default_mode": "auto",
        "small_module_threshold": 300,
        "medium_module_threshold": 1500,
        "loc_to_tokens_multiplier": 3.5,
        "subscription_block_budget_tokens": None,
        "setup_completed": True,
        "prefer_subscription": False,
        "cost_optimization": True,
        "metadata": {},
    }
    status = json.loads(run(attune_cmd, cli_env, "auth", "status", "--json").stdout)
    assert status["path"] == str(attune_home / "auth_strategy.json") and status["file_exists"] is True
    assert status["setup_completed"] is True and status["subscription_tier"] == "max"
    text = run(attune_cmd, cli_env, "auth", "status").stdout
    assert "Setup complete: yes" in text and str(attune_home) in text and "small_module_threshold   300" in text


def test_setup_without_terminal_or_flags_fails_fast(attune_cmd, cli_env, attune_home):
    r = run(attune_cmd, cli_env, "auth", "setup")
    assert r.returncode == 2
    assert "--tier" in r.stderr and "Traceback" not in r.stderr
    assert not (attune_home / "auth_strategy.json").exists()


def test_setup_refuses_invalid_values_naming_the_field(attune_cmd, cli_env, attune_home):
    r = run(attune_cmd, cli_env, "auth", "setup", "--tier", "pro", "--small-threshold", "0")
    assert r.returncode == 2 and "small_module_threshold" in r.stderr
    r = run(attune_cmd, cli_env, "auth", "setup", "--tier", "pro", "--multiplier", "nan")
    assert r.returncode == 2 and "loc_to_tokens_multiplier" in r.stderr
    r = run(attune_cmd, cli_env, "auth", "setup", "--tier", "platinum")
    assert r.returncode == 2 and "invalid choice" in r.stderr
    assert not (attune_home / "auth_strategy.json").exists()


def test_overwriting_setup_backs_up_first(attune_cmd, cli_env, attune_home):
    run(attune_cmd, cli_env, "auth", "setup", "--tier", "pro")
    first = strategy_file(attune_home)
    r = run(attune_cmd, cli_env, "auth", "setup", "--mode", "api")
    assert r.returncode == 0 and "backed up to" in r.stdout
    backups = list((attune_home / "backups").glob("auth_strategy-*.json"))
    assert len(backups) == 1 and json.loads(backups[0].read_text()) == first
    assert strategy_file(attune_home)["subscription_tier"] == "pro"  # kept, only mode changed
    assert strategy_file(attune_home)["default_mode"] == "api"


def test_reset_refuses_without_terminal_and_without_yes(attune_cmd, cli_env, attune_home):
    run(attune_cmd, cli_env, "auth", "setup", "--tier", "pro")
    before = (attune_home / "auth_strategy.json").read_bytes()
    r = run(attune_cmd, cli_env, "auth", "reset")
    assert r.returncode == 2 and "--yes" in r.stderr
    assert (attune_home / "auth_strategy.json").read_bytes() == before
    assert not (attune_home / "backups").exists()


def test_reset_yes_backs_up_prints_the_path_and_restore_undoes(attune_cmd, cli_env, attune_home):
    run(attune_cmd, cli_env, "auth", "setup", "--tier", "team", "--small-threshold", "250")
    saved = strategy_file(attune_home)
    r = run(attune_cmd, cli_env, "auth", "reset", "--yes")
    assert r.returncode == 0
    backup = Path(r.stdout.split("Backed up to ", 1)[1].splitlines()[0])
    assert json.loads(backup.read_text()) == saved
    assert not (attune_home / "auth_strategy.json").exists()
    listed = run(attune_cmd, cli_env, "auth", "restore", "--list").stdout
    assert backup.name in listed
    r = run(attune_cmd, cli_env, "auth", "restore")
    assert r.returncode == 0, r.stderr
    assert strategy_file(attune_home) == saved


def test_reset_json_and_corrupt_file_is_moved_aside(attune_cmd, cli_env, attune_home):
    (attune_home / "auth_strategy.json").write_text("{oops")
    r = run(attune_cmd, cli_env, "auth", "status")
    assert r.returncode == 1 and "not valid JSON" in r.stderr and "auth_strategy.json" in r.stderr
    assert "Traceback" not in r.stderr
    r = run(attune_cmd, cli_env, "auth", "reset", "--yes", "--json")
    assert r.returncode == 0, r.stderr
    moved = Path(json.loads(r.stdout)["corrupt_moved_to"])
    assert moved.read_text() == "{oops" and ".corrupt-" in moved.name


def test_restore_named_and_missing_backup(attune_cmd, cli_env, attune_home):
    r = run(attune_cmd, cli_env, "auth", "restore")
    assert r.returncode == 1 and "no backups" in r.stderr
    r = run(attune_cmd, cli_env, "auth", "restore", "nope.json")
    assert r.returncode == 1 and "no such backup" in r.stderr


def test_programmatic_reset_does_not_silently_discard(attune_home, monkeypatch):
    import io

    from attune.cli.auth import cmd_auth_reset
    from attune.cli.common import UsageError
    from attune.models import AuthStrategy

    AuthStrategy(subscription_tier="pro").save()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(UsageError):
        cmd_auth_reset()
    assert AuthStrategy.load().subscription_tier.value == "pro"


# ---- the interactive wizard, on a real pseudo-terminal ---------------------------


def test_interactive_setup_on_a_terminal(attune_cmd, cli_env, attune_home):
    child = pexpect.spawn(attune_cmd[0], [*attune_cmd[1:], "auth", "setup"], env=cli_env, encoding="utf-8", timeout=30)
    child.expect("Your Claude plan:")
    child.expect(r"Choice \[6\]: ")
    child.sendline("9")  # out of range: asked again
    child.expect("Please type a number")
    child.sendline("2")  # Pro
    child.expect("Subscription")  # the trade-offs are shown before the mode question
    child.expect("How should Attune choose")
    child.expect(r"Choice \[1\]: ")
    child.sendline("")  # default: Auto
    child.expect("Saved to")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    saved = strategy_file(attune_home)
    assert saved["subscription_tier"] == "pro" and saved["default_mode"] == "auto"
    assert saved["setup_completed"] is True


def test_interactive_reset_asks_and_no_keeps_the_file(attune_cmd, cli_env, attune_home):
    run(attune_cmd, cli_env, "auth", "setup", "--tier", "pro")
    child = pexpect.spawn(attune_cmd[0], [*attune_cmd[1:], "auth", "reset"], env=cli_env, encoding="utf-8", timeout=30)
    child.expect(r"\[y/N\]")
    child.sendline("n")
    child.expect("Nothing was changed")
    child.expect(pexpect.EOF)
    assert (attune_home / "auth_strategy.json").exists()


def test_usage_errors_exit_2_and_help_works(attune_cmd, cli_env):
    assert run(attune_cmd, cli_env, "auth", "frobnicate").returncode == 2
    assert run(attune_cmd, cli_env).returncode == 2
    r = run(attune_cmd, cli_env, "--help")
    assert r.returncode == 0 and "auth" in r.stdout


def test_setup_over_a_corrupt_file_keeps_it_aside_and_saves(attune_cmd, cli_env, attune_home):
    (attune_home / "auth_strategy.json").write_text("{half a file")
    r = run(attune_cmd, cli_env, "auth", "setup", "--tier", "pro", "--json")
    assert r.returncode == 0, r.stderr
    moved = Path(json.loads(r.stdout)["corrupt_moved_to"])
    assert moved.read_text() == "{half a file"
    assert strategy_file(attune_home)["subscription_tier"] == "pro"


def test_block_budget_is_set_and_cleared_from_flags(attune_cmd, cli_env, attune_home):
    r = run(attune_cmd, cli_env, "auth", "setup", "--tier", "max", "--block-budget", "880000")
    assert r.returncode == 0, r.stderr
    assert strategy_file(attune_home)["subscription_block_budget_tokens"] == 880_000
    assert "subscription_block_budget_tokens 880000" in " ".join(r.stdout.split())
    r = run(attune_cmd, cli_env, "auth", "setup", "--block-budget", "none")
    assert r.returncode == 0, r.stderr
    assert strategy_file(attune_home)["subscription_block_budget_tokens"] is None
    r = run(attune_cmd, cli_env, "auth", "setup", "--block-budget", "lots")
    assert r.returncode == 2
    assert "'lots' is not a whole number" in r.stderr
    r = run(attune_cmd, cli_env, "auth", "setup", "--block-budget", "0")
    assert r.returncode == 2
    assert "subscription_block_budget_tokens" in r.stderr
