"""Without the optional redis package (`attune-companion[redis]`), a redis:// store is
refused in one line that names the extra: from the library and from the CLI.

Each case runs in a fresh interpreter where ``sys.modules['redis'] = None``, which makes
``import redis`` fail as it does when the package is not installed."""

from __future__ import annotations

import subprocess
import sys

NEEDS_EXTRA = "the Redis breaker store (redis://127.0.0.1:6390/0) needs the redis package: "
INSTALL = "pip install 'attune-companion[redis]'"
WITHOUT_REDIS = "import sys; sys.modules['redis'] = None\n"


def python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_REDIS + code], env=env, capture_output=True, text=True, timeout=60
    )


def test_circuit_breaker_with_a_redis_url_names_the_extra(cli_env) -> None:
    result = python(
        "from attune.models import CircuitBreaker\n"
        "from attune.models.errors import AttuneError\n"
        "try:\n"
        "    CircuitBreaker(store='redis://127.0.0.1:6390/0')\n"
        "except AttuneError as exc:\n"
        "    print(type(exc).__name__, isinstance(exc, ImportError), exc, sep='|')\n",
        cli_env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"MissingExtraError|True|{NEEDS_EXTRA}{INSTALL}"]


def test_get_circuit_breaker_with_a_redis_breaker_url_names_the_extra(cli_env) -> None:
    env = {**cli_env, "ATTUNE_BREAKER_URL": "redis://127.0.0.1:6390/0"}
    result = python(
        "from attune.models import get_circuit_breaker\n"
        "try:\n"
        "    get_circuit_breaker()\n"
        "except ImportError as exc:\n"
        "    print(exc)\n",
        env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [NEEDS_EXTRA + INSTALL]


def test_cli_says_it_in_one_line_and_exits_1(cli_env) -> None:
    cli = "from attune.cli.main import main\nsys.exit(main(sys.argv[1:]))\n"
    for args, env in (
        (["breaker", "status", "--store", "redis://127.0.0.1:6390/0"], cli_env),
        (["breaker", "reset", "--store", "redis://127.0.0.1:6390/0"], cli_env),
        (["breaker", "status"], {**cli_env, "ATTUNE_BREAKER_URL": "redis://127.0.0.1:6390/0"}),
    ):
        result = subprocess.run(
            [sys.executable, "-c", WITHOUT_REDIS + cli, *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.splitlines() == [f"attune: {NEEDS_EXTRA}{INSTALL}"], args
        assert result.stdout == ""


def test_with_redis_installed_the_store_is_created(cli_env) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from attune.models import CircuitBreaker\n"
            "print(CircuitBreaker(store='redis://127.0.0.1:6390/0').store.url)",
        ],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "redis://127.0.0.1:6390/0"
