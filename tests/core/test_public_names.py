"""The names users' code imports: everything in ``attune.models.__all__``, and the three
module paths the seed documents name, with the names they give."""

from __future__ import annotations

import subprocess
import sys

import attune.models

SEED_NAMES = [
    "AuthStrategy", "AuthMode", "SubscriptionTier", "AUTH_STRATEGY_FILE", "get_auth_strategy",
    "count_lines_of_code", "get_module_size_category", "AdaptiveModelRouter", "ModelPerformance",
    "CircuitBreaker", "CircuitBreakerState", "get_circuit_breaker", "LLMResponse", "EmpathyLLMExecutor",
    "LLMCallRecord", "TelemetryBackend", "TelemetryStore", "TASK_TIER_MAP", "CHEAP_TASKS",
    "CAPABLE_TASKS", "PREMIUM_TASKS", "REALTIME_REQUIRED_TASKS", "get_model", "get_tier_for_task",
    "ResilientExecutor", "FallbackStrategy",
]  # fmt: skip


def test_every_public_name_resolves_and_the_seed_names_are_public() -> None:
    missing = [name for name in SEED_NAMES if name not in attune.models.__all__]
    assert not missing, missing
    for name in attune.models.__all__:
        assert getattr(attune.models, name) is not None, name


def test_the_seed_module_paths_export_the_same_objects() -> None:
    from attune.models import adaptive_routing, auth_strategy

    assert auth_strategy.AuthStrategy is attune.models.AuthStrategy
    assert auth_strategy.get_auth_strategy is attune.models.get_auth_strategy
    assert auth_strategy.AUTH_STRATEGY_FILE == attune.models.AUTH_STRATEGY_FILE
    assert adaptive_routing.AdaptiveModelRouter is attune.models.AdaptiveModelRouter
    assert adaptive_routing.ModelPerformance is attune.models.ModelPerformance


def test_auth_cli_loads_the_cli_only_when_a_command_is_used() -> None:
    code = (
        "import sys\n"
        "import attune.models.auth_cli as auth_cli\n"
        "assert 'attune.cli.auth' not in sys.modules, 'attune.cli loaded on import'\n"
        "from attune.models.auth_cli import cmd_auth_recommend, cmd_auth_reset, cmd_auth_setup, cmd_auth_status, main\n"
        "import attune.cli.auth, attune.cli.main\n"
        "assert cmd_auth_status is attune.cli.auth.cmd_auth_status and main is attune.cli.main.main\n"
        "assert sorted(dir(auth_cli)) == sorted(auth_cli.__all__)\n"
        "try:\n"
        "    auth_cli.cmd_auth_nothing\n"
        "except AttributeError as exc:\n"
        "    assert 'cmd_auth_nothing' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('unknown names must raise AttributeError')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_get_auth_strategy_returns_the_saved_strategy_without_asking(attune_home, cli_env) -> None:
    # on a terminal too: setting up is `attune auth setup`'s job, never a library call's
    import pexpect

    (attune_home / "auth_strategy.json").write_text('{"subscription_tier": "max", "setup_completed": false}')
    child = pexpect.spawn(
        sys.executable,
        [
            "-c",
            "from attune.models import get_auth_strategy; print('tier=' + get_auth_strategy().subscription_tier.value)",
        ],
        env=cli_env,
        encoding="utf-8",
        timeout=30,
    )
    child.expect("tier=max")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
