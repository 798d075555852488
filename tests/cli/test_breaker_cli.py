"""`attune breaker status|reset`, run as a user runs them: a subprocess with ATTUNE_HOME,
reading state that another process (this test) wrote to the shared SQLite file."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from attune.models import get_circuit_breaker
from support.redis_server import free_port


def run(attune_cmd: list[str], cli_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*attune_cmd, "breaker", *args], env=cli_env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def tripped() -> None:
    """State written by this process into the shared breaker the CLI reads."""
    cb = get_circuit_breaker()
    for _ in range(5):
        cb.record_failure("anthropic", "premium", error_type="overloaded")
    cb.record_failure("anthropic", "cheap", error_type="timeout")
    for _ in range(5):
        cb.record_failure("openai")


def test_status_with_no_state_says_everything_is_available(attune_cmd, cli_env) -> None:
    result = run(attune_cmd, cli_env, "status")
    assert result.returncode == 0, result.stderr
    assert "every provider is available" in result.stdout


def test_status_table_shows_state_written_by_another_process(attune_cmd, cli_env, tripped) -> None:
    result = run(attune_cmd, cli_env, "status")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert lines["KEY"].split()[:3] == ["KEY", "STATE", "FAILURES"]
    premium = lines["anthropic:premium"].split()
    assert premium[1:4] == ["open", "5", "overloaded"]
    assert re.search(r"in \d+ s$", lines["anthropic:premium"])
    assert lines["anthropic:cheap"].split()[1:4] == ["closed", "1", "timeout"]
    assert lines["openai"].split()[1] == "open"
    assert "breaker.db" in result.stdout


def test_status_json_is_the_store_and_get_status(attune_cmd, cli_env, tripped, attune_home) -> None:
    result = run(attune_cmd, cli_env, "status", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"schema_version", "store", "breakers"} and document["schema_version"] == 1
    store = document["store"]
    assert store["url"] == f"sqlite:///{attune_home / 'state' / 'breaker.db'}" and store["url"].startswith(
        "sqlite:////"
    )
    assert store["reachable"] is True and store["error"] is None and store["down_since"] is None
    data = document["breakers"]
    assert set(data) == {"anthropic:cheap", "anthropic:premium", "openai"}
    assert data["anthropic:premium"]["state"] == "open"
    assert data["anthropic:premium"]["is_open"] is True
    assert data["anthropic:premium"]["retry_at"].endswith("+00:00")
    assert data == get_circuit_breaker().get_status()


def test_reset_provider_resets_its_tiers_and_says_so(attune_cmd, cli_env, tripped) -> None:
    result = run(attune_cmd, cli_env, "reset", "anthropic")
    assert result.returncode == 0, result.stderr
    assert "Reset anthropic:premium (was open, 5 failures)" in result.stdout
    assert "Reset anthropic:cheap (was closed, 1 failure)" in result.stdout
    cb = get_circuit_breaker()
    assert cb.is_available("anthropic", "premium")
    assert not cb.is_available("openai")


def test_reset_one_tier(attune_cmd, cli_env, tripped) -> None:
    result = run(attune_cmd, cli_env, "reset", "anthropic", "--tier", "premium")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Reset anthropic:premium (was open, 5 failures)"
    assert set(get_circuit_breaker().get_status()) == {"anthropic:cheap", "openai"}


def test_reset_all(attune_cmd, cli_env, tripped) -> None:
    result = run(attune_cmd, cli_env, "reset")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3
    assert get_circuit_breaker().get_status() == {}


def test_reset_changes_the_token_another_process_polls(attune_cmd, cli_env, tripped) -> None:
    cb = get_circuit_breaker()
    before = cb.change_token()
    assert run(attune_cmd, cli_env, "reset", "openai").returncode == 0
    assert cb.change_token() != before


def test_reset_of_nothing_says_so(attune_cmd, cli_env) -> None:
    result = run(attune_cmd, cli_env, "reset", "anthropic")
    assert result.returncode == 0
    assert "Nothing to reset" in result.stdout


def test_tier_without_provider_is_a_usage_error(attune_cmd, cli_env) -> None:
    result = run(attune_cmd, cli_env, "reset", "--tier", "premium")
    assert result.returncode == 2
    assert "--tier needs a PROVIDER" in result.stderr
    assert "Traceback" not in result.stderr


def test_store_option_reads_another_store(attune_cmd, cli_env, tmp_path: Path) -> None:
    from attune.models import CircuitBreaker

    url = f"sqlite:///{tmp_path}/other.db"
    CircuitBreaker(store=url).record_failure("anthropic", "cheap")
    result = run(attune_cmd, cli_env, "status", "--json", "--store", url)
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout)["breakers"]) == ["anthropic:cheap"]


def test_bad_breaker_url_is_a_clear_error(attune_cmd, cli_env) -> None:
    cli_env["ATTUNE_BREAKER_URL"] = "ftp://example"
    result = run(attune_cmd, cli_env, "status")
    assert result.returncode == 1
    assert "ATTUNE_BREAKER_URL" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_redis_is_a_clear_error(attune_cmd, cli_env) -> None:
    cli_env["ATTUNE_BREAKER_URL"] = f"redis://:pw-secret@127.0.0.1:{free_port()}/0"
    result = run(attune_cmd, cli_env, "status")
    assert result.returncode == 1
    assert "unavailable" in result.stderr and "Traceback" not in result.stderr
    assert "pw-secret" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # the error, not also a log line


def test_relative_sqlite_url_is_relative_to_the_current_directory(attune_cmd, cli_env, tmp_path: Path) -> None:
    from attune.models import CircuitBreaker

    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    CircuitBreaker(store=f"sqlite:///{work}/sub/rel.db").record_failure("openai")  # sqlite:////abs/…
    status = subprocess.run(
        [*attune_cmd, "breaker", "status", "--json", "--store", "sqlite:///sub/rel.db"],
        env=cli_env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0, status.stderr
    document = json.loads(status.stdout)
    assert list(document["breakers"]) == ["openai"]
    assert document["store"]["url"] == f"sqlite:///{work}/sub/rel.db"
    reset = subprocess.run(
        [*attune_cmd, "breaker", "reset", "--store", "sqlite:///new.db"],
        env=cli_env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert reset.returncode == 0, reset.stderr
    assert (work / "new.db").exists()


@pytest.mark.parametrize("url", ["ftp://example", "sqlite:///", "sqlite://relative.db", "breaker.db"])
@pytest.mark.parametrize("command", ["status", "reset"])
def test_a_bad_store_url_is_a_usage_error(attune_cmd, cli_env, attune_home, url: str, command: str) -> None:
    result = run(attune_cmd, cli_env, command, "--store", url)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("attune: --store:") and "sqlite:///" in result.stderr
    assert list(attune_home.iterdir()) == []
