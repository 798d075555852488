"""What every command of `attune` shares, run as a user runs it (a subprocess):
--version, `python -m attune.cli`, shell completion, the --json envelope, logging
options and the traceback switch."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from attune.cli.main import build_parser

REPO = Path(__file__).resolve().parents[2]
COMPLETIONS = REPO / "core" / "attune" / "cli" / "completions"


def run(cmd: list[str], env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cmd, *args], env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )


def project_version() -> str:
    version: str = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    return version


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def leaf_commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every runnable command path (``("auth", "status")``, ``("scan",)``…) and its parser."""
    subs = subcommands(parser)
    if not subs:
        return {path: parser}
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for name, sub in subs.items():
        found.update(leaf_commands(sub, (*path, name)))
    return found


# ---- --version, python -m ------------------------------------------------------------


def test_version_of_both_commands(attune_cmd, cli_env) -> None:
    expected = project_version()
    cli = run(attune_cmd, cli_env, "--version")
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout == f"attune {expected}\n"
    lsp = run([sys.executable, "-m", "attune.lsp"], cli_env, "--version")
    assert lsp.returncode == 0, lsp.stderr
    assert lsp.stdout == f"attune-lsp {expected}\n"


def test_the_fallback_version_is_the_project_version() -> None:
    from attune.models.version import FALLBACK_VERSION

    assert project_version() == FALLBACK_VERSION  # what a source tree that is not installed reports


def test_python_m_attune_cli_is_the_attune_command(attune_cmd, cli_env) -> None:
    assert attune_cmd[1:] == ["-m", "attune.cli"]
    helped = run(attune_cmd, cli_env, "--help")
    assert helped.returncode == 0 and helped.stdout.startswith("usage: attune ")
    for name in subcommands(build_parser()):
        assert name in helped.stdout
    bare = run(attune_cmd, cli_env)
    assert bare.returncode == 2 and "COMMAND" in bare.stderr


# ---- shell completion -------------------------------------------------------------------


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_naming_every_command(attune_cmd, cli_env, shell: str) -> None:
    result = run(attune_cmd, cli_env, "completion", shell)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (COMPLETIONS / f"attune.{shell}").read_text()
    assert len(result.stdout.splitlines()) > 50
    for name in subcommands(build_parser()):
        assert name in result.stdout, f"{shell} completion does not offer `attune {name}`"


@pytest.mark.parametrize("shell, check", [("bash", ["bash", "-n"]), ("zsh", ["zsh", "-n"]), ("fish", ["fish", "-n"])])
def test_completion_is_valid_shell(attune_cmd, cli_env, tmp_path: Path, shell: str, check: list[str]) -> None:
    if shutil.which(check[0]) is None:
        if os.environ.get("ATTUNE_REQUIRE_SHELLS"):  # CI: scripts/setup-dev.sh installs them
            pytest.fail(f"{check[0]} is not installed")
        pytest.skip(f"no {check[0]} here")
    script = tmp_path / f"attune.{shell}"
    script.write_text(run(attune_cmd, cli_env, "completion", shell).stdout)
    result = subprocess.run([*check, str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_bash_completion_completes_commands_and_choices(attune_cmd, cli_env, tmp_path: Path) -> None:
    if shutil.which("bash") is None:
        pytest.skip("no bash here")
    script = tmp_path / "attune.bash"
    script.write_text(run(attune_cmd, cli_env, "completion", "bash").stdout)

    def complete(*words: str) -> list[str]:
        probe = (
            f"source {script}\n"
            "fn=$(complete -p attune | awk '{print $(NF-1)}')\n"
            f"COMP_WORDS=(attune {' '.join(words)} ''); COMP_CWORD={len(words) + 1}\n"
            '"$fn"; printf "%s\\n" "${COMPREPLY[@]}"\n'
        )
        result = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert complete() == list(subcommands(build_parser()))
    assert complete("breaker") == ["status", "reset"]
    assert complete("auth", "setup", "--tier") == ["free", "pro", "max", "team", "enterprise", "api_only"]
    assert complete("completion") == ["bash", "zsh", "fish"]


def test_unknown_shell_is_a_usage_error(attune_cmd, cli_env) -> None:
    result = run(attune_cmd, cli_env, "completion", "powershell")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_completions", REPO / "scripts" / "gen_completions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_completions_know_every_option_of_the_parser() -> None:
    """A command or option added without `python scripts/gen_completions.py` fails here."""
    scripts = {shell: (COMPLETIONS / f"attune.{shell}").read_text() for shell in ("bash", "zsh", "fish")}
    parsers = [build_parser()]
    while parsers:
        parser = parsers.pop()
        for name, sub in subcommands(parser).items():
            parsers.append(sub)
            for shell, text in scripts.items():
                assert name in text, f"attune.{shell} lacks the command {name}: regenerate it"
        for action in parser._actions:
            for option in action.option_strings:
                flag = option.lstrip("-")
                for shell, text in scripts.items():
                    assert option in text or f"-l {flag}" in text or f"-s {flag}" in text, (
                        f"attune.{shell} lacks {option} of {parser.prog}: run python scripts/gen_completions.py"
                    )


def test_committed_completions_are_what_the_generator_writes() -> None:
    shtab = pytest.importorskip("shtab")
    header = (COMPLETIONS / "attune.bash").read_text().splitlines()[0]
    if f"(shtab {shtab.__version__})" not in header:
        pytest.skip(f"committed with another shtab ({header}); this one is {shtab.__version__}")
    assert _generator().stale() == [], "run python scripts/gen_completions.py"


# ---- --json ----------------------------------------------------------------------------


def test_every_json_output_is_an_object_with_schema_version_1(attune_cmd, cli_env, tmp_path: Path) -> None:
    source = tmp_path / "tree" / "mod.py"
    source.parent.mkdir()
    source.write_text("x = 1\n")
    runs = [
        ("auth", "setup", "--tier", "pro", "--json"),
        ("auth", "setup", "--mode", "api", "--json"),  # a backup now exists
        ("auth", "status", "--json"),
        ("auth", "recommend", str(source), "--json"),
        ("auth", "restore", "--list", "--json"),
        ("auth", "restore", "--json"),
        ("auth", "reset", "--yes", "--json"),
        ("scan", str(source.parent), "--json"),
        ("run", "explain", str(source), "--dry-run", "--json"),
        ("runs", "--json"),
        ("usage", "--json"),
        ("spend", "--json"),
        ("calibrate", "--from-runs", "--json"),
        ("breaker", "status", "--json"),
        ("routing", "stats", "--json"),
        ("routing", "stats", "docs", "--json"),
        ("routing", "best", "docs", "review", "--json"),
    ]
    leaves = leaf_commands(build_parser())
    with_json = {path for path, parser in leaves.items() if "--json" in parser._option_string_actions}
    tested = {next(path for path in leaves if args[: len(path)] == path) for args in runs}
    assert with_json == tested, "a command with --json is missing here"
    for args in runs:
        result = run(attune_cmd, cli_env, *args)
        assert result.returncode == 0, (args, result.stderr)
        document = json.loads(result.stdout)
        assert isinstance(document, dict), args
        assert next(iter(document.items())) == ("schema_version", 1), args


def test_restore_list_json_wraps_the_backups(attune_cmd, cli_env, attune_home: Path) -> None:
    empty = json.loads(run(attune_cmd, cli_env, "auth", "restore", "--list", "--json").stdout)
    assert empty == {"schema_version": 1, "backups": []}
    run(attune_cmd, cli_env, "auth", "setup", "--tier", "pro")
    run(attune_cmd, cli_env, "auth", "setup", "--tier", "max")
    listed = json.loads(run(attune_cmd, cli_env, "auth", "restore", "--list", "--json").stdout)
    assert set(listed) == {"schema_version", "backups"}
    assert [Path(b).parent for b in listed["backups"]] == [attune_home / "backups"]
    text = run(attune_cmd, cli_env, "auth", "restore", "--list").stdout
    assert text.split() == listed["backups"]


# ---- logging ---------------------------------------------------------------------------

DEBUG_LINE = "DEBUG attune.models.routing.router: routing docs/review:"


@pytest.mark.parametrize(
    "args",
    [
        ["routing", "best", "docs", "review", "--log-level", "DEBUG"],
        ["routing", "best", "docs", "review", "--log-level", "debug"],
        ["routing", "best", "docs", "review", "-vv"],
        ["-vv", "routing", "best", "docs", "review"],
        ["--log-level", "DEBUG", "routing", "best", "docs", "review"],
        ["routing", "-vv", "best", "docs", "review"],
    ],
)
def test_debug_logging_before_or_after_the_subcommand(attune_cmd, cli_env, args: list[str]) -> None:
    result = run(attune_cmd, cli_env, *args)
    assert result.returncode == 0, result.stderr
    assert DEBUG_LINE in result.stderr
    assert result.stdout.startswith("model:")  # logs never mix into stdout


def test_default_and_info_levels_keep_debug_quiet(attune_cmd, cli_env) -> None:
    for extra in ([], ["-v"], ["--log-level", "INFO"]):
        result = run(attune_cmd, cli_env, "routing", "best", "docs", "review", *extra)
        assert result.returncode == 0 and result.stderr == "", (extra, result.stderr)


def test_every_command_takes_the_logging_options(attune_cmd, cli_env) -> None:
    for path in leaf_commands(build_parser()):
        result = run(attune_cmd, cli_env, *path, "--help", "--log-level", "WARNING", "-v")
        assert result.returncode == 0, (path, result.stderr)
        assert "--log-level LEVEL" in result.stdout and "--verbose" in result.stdout, path


def test_a_bad_log_level_is_a_usage_error(attune_cmd, cli_env) -> None:
    result = run(attune_cmd, cli_env, "auth", "status", "--log-level", "loud")
    assert result.returncode == 2 and "--log-level" in result.stderr and "DEBUG" in result.stderr


def _schema_without_tables(attune_home: Path) -> None:
    """A telemetry file claiming the current schema but missing its tables: a case
    nothing anticipates, so the CLI reports it as an unexpected error."""
    import sqlite3

    db = attune_home / "state" / "telemetry.db"
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 1")
    conn.close()


def test_attune_debug_shows_the_traceback_of_an_unexpected_error(attune_cmd, cli_env, attune_home) -> None:
    _schema_without_tables(attune_home)
    plain = run(attune_cmd, cli_env, "routing", "stats", "docs")
    assert plain.returncode == 1
    assert "unexpected error" in plain.stderr and "ATTUNE_DEBUG=1" in plain.stderr
    assert "Traceback" not in plain.stderr
    for extra in ([], ["-v"]):
        debug = run(attune_cmd, {**cli_env, "ATTUNE_DEBUG": "1"}, "routing", "stats", "docs", *extra)
        assert debug.returncode == 1
        assert "unexpected error" in debug.stderr and "Traceback (most recent call last)" in debug.stderr
