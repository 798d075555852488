"""`attune breaker` never prints a store's credentials: not in its table, its --json, its
errors or its logs, whether the store answers, refuses the password, is unreachable
or its URL is malformed."""

from __future__ import annotations

import subprocess

import pytest

from support.redis_server import RedisServer, free_port, redis_server_binary, skip_or_fail_without_redis

SECRET = "S3cr3t"


def run(attune_cmd: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*attune_cmd, *args], env=env, capture_output=True, text=True, timeout=60)


def shown(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def guarded_redis():  # type: ignore[no-untyped-def]
    """A real redis-server that wants the password SECRET."""
    if redis_server_binary() is None:
        skip_or_fail_without_redis()
    import redis

    with RedisServer() as server:
        redis.Redis.from_url(server.url).config_set("requirepass", SECRET)
        yield server


@pytest.mark.redis
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_status_of_a_store_that_answers_hides_the_password(attune_cmd, cli_env, guarded_redis, json_flag) -> None:
    url = f"{guarded_redis.url}?password={SECRET}"
    result = run(attune_cmd, cli_env, "-v", "breaker", "status", *json_flag, "--store", url)
    assert result.returncode == 0, result.stderr
    assert f"{guarded_redis.url}?password=***" in result.stdout
    assert SECRET not in shown(result)


@pytest.mark.redis
def test_reset_and_a_refused_password_hide_it(attune_cmd, cli_env, guarded_redis) -> None:
    ok = run(attune_cmd, cli_env, "breaker", "reset", "--store", f"{guarded_redis.url}?password={SECRET}")
    assert ok.returncode == 0, ok.stderr
    wrong = run(attune_cmd, cli_env, "breaker", "status", "--store", f"{guarded_redis.url}?password=no-{SECRET}")
    assert wrong.returncode == 1
    assert "unavailable" in wrong.stderr and SECRET not in shown(wrong)


@pytest.mark.parametrize("command", ["status", "reset"])
@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:{port}/0?password=S3cr3t",
        "redis://127.0.0.1:{port}/0?Password=S3cr3t",
        "redis://127.0.0.1:{port}/0?username=u&password=S3cr3t&bogus=1",
        "redis://user:S3cr3t@127.0.0.1:{port}/0",
        "redis://user:S3c@r3t@127.0.0.1:{port}/0",
        "redis://user:S3cr3t@[::1/0",
        "redis//user:S3cr3t@127.0.0.1:{port}/0",
        "sqlite:///breaker.db?password=S3cr3t",
    ],
)
def test_errors_from_a_store_option_never_show_the_secret(attune_cmd, cli_env, url: str, command: str) -> None:
    store = url.format(port=free_port())
    result = run(attune_cmd, cli_env, "--log-level", "debug", "breaker", command, "--store", store)
    assert result.returncode in (1, 2), result.stdout
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr
    assert SECRET not in shown(result) and "r3t@" not in shown(result)


def test_an_unknown_option_is_a_usage_error_naming_it(attune_cmd, cli_env) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0?password={SECRET}&bogus=1"
    result = run(attune_cmd, cli_env, "breaker", "status", "--store", url)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"attune: --store: unknown option 'bogus' in the redis breaker URL "
        f"'{url.replace(SECRET, '***')}' (accepted: prefix, db, username, password, client_name, protocol)"
    ]


def test_the_breaker_url_variable_is_not_shown_either(attune_cmd, cli_env) -> None:
    env = {**cli_env, "ATTUNE_BREAKER_URL": f"redis://127.0.0.1:{free_port()}/0?password={SECRET}"}
    for args in (["breaker", "status"], ["breaker", "reset"], ["routing", "stats"]):
        result = run(attune_cmd, env, "--log-level", "debug", *args)
        assert SECRET not in shown(result), args
    bad = {**cli_env, "ATTUNE_BREAKER_URL": f"redis://127.0.0.1:{free_port()}/0?password={SECRET}&bogus=1"}
    result = run(attune_cmd, bad, "breaker", "status")
    assert result.returncode == 1
    assert "ATTUNE_BREAKER_URL" in result.stderr and "'bogus'" in result.stderr
    assert SECRET not in shown(result)
