"""`attune run TASK FILE` end to end: the CLI in a subprocess, the real SDK against the
loopback fake API (realistic token counts), Claude Code replaced by the stub
executable, the real SQLite telemetry store and breaker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from attune.models.strategy.model import AuthStrategy
from attune.models.telemetry.store import get_telemetry_store
from support.claude_stub import NOT_LOGGED_IN, STUB_REPLY, stub_calls, write_claude_stub
from support.fake_anthropic import (
    TEST_API_KEY,
    FakeAnthropic,
    gated,
    realistic_tokens,
    request_text,
)

DEADLINE_S = 60  # a wait that only ends a broken test; nothing is timed against it


@pytest.fixture
def module(tmp_path: Path) -> Path:
    source = textwrap.dedent(
        '''
        """Parses tiny config files."""

        def parse(text):
            """key=value lines to a dict."""
            result = {}
            for line in text.splitlines():
                if "=" in line:
                    key, value = line.split("=", 1)
                    result[key.strip()] = value.strip()
            return result
        '''
    )
    path = tmp_path / "config_parser.py"
    path.write_text(source * 4, encoding="utf-8")
    return path


def attune(cmd: list[str], env: dict[str, str], *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cmd, *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=DEADLINE_S, **kw
    )


def run_json(stdout: str) -> dict[str, Any]:
    data = json.loads(stdout)
    assert data["schema_version"] == 1
    return data


def open_breaker_in_another_process(env: dict[str, str], *tiers: str) -> None:
    code = (
        "import sys\n"
        "from attune.models.breaker.circuit_breaker import get_circuit_breaker\n"
        "b = get_circuit_breaker()\n"
        "for tier in sys.argv[1:]:\n"
        "    for _ in range(b.failure_threshold):\n"
        "        b.record_failure('anthropic', tier, error_type='server')\n"
    )
    subprocess.run([sys.executable, "-c", code, *tiers], env=env, check=True, timeout=DEADLINE_S)


def telemetry_db_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (home / "state").glob("telemetry.db*"))


# ---- the API path ------------------------------------------------------------------------


def test_document_runs_its_four_stages_in_order_and_records_the_run(
    attune_cmd, api_env, realistic_api, module, attune_home
):
    result = attune(attune_cmd, api_env, "run", "document", str(module), "--yes", "--json", "-vv")

    assert result.returncode == 0, result.stderr
    data = run_json(result.stdout)
    requests = realistic_api.requests_to("/v1/messages")
    assert [r.model for r in requests] == [
        "claude-haiku-4-5",
        "claude-sonnet-4-6",
        "claude-opus-4-6",
        "claude-haiku-4-5",
    ]
    assert data["status"] == "ok" and data["mode"] == "api"
    assert [s["stage"] for s in data["stages"]] == ["outline", "write", "polish", "api_reference"]
    # each stage's tokens are what the provider reported for its request
    for stage, request in zip(data["stages"], requests, strict=True):
        assert stage["input_tokens"] == realistic_tokens(request_text(request.body))
        assert stage["status"] == "ok" and stage["cost"] > 0
    # the module goes to the stages that read it; write reads the outline's output
    module_text = module.read_text(encoding="utf-8")
    assert module_text.strip() in request_text(requests[0].body)
    outline_reply = data["stages"][0]
    assert outline_reply["output_tokens"] > 0
    assert module_text.strip() not in request_text(requests[2].body)  # polish reads the draft only
    # the preview went to stderr, before anything was spent
    assert "outline" in result.stderr and "Total: ≈$" in result.stderr
    # the run and its calls are in the telemetry store, linked by the run id
    store = get_telemetry_store(read_only=True)
    run = store.get_run(data["run_id"])
    assert run is not None and run.status == "ok"
    assert [s.status for s in run.stages] == ["ok"] * 4
    assert [s.input_tokens for s in run.stages] == [s["input_tokens"] for s in data["stages"]]
    calls = store.recent_calls("run:document", limit=10)
    assert sorted(c.run_id for c in calls) == [data["run_id"]] * 4
    # the key is in none of what the user or the store sees
    for text in (result.stdout, result.stderr):
        assert TEST_API_KEY not in text
    assert TEST_API_KEY.encode() not in telemetry_db_bytes(attune_home)


def test_explain_prints_the_last_stage_output_to_stdout(attune_cmd, api_env, realistic_api, module):
    result = attune(attune_cmd, api_env, "run", "explain", str(module), "--yes")

    assert result.returncode == 0, result.stderr
    requests = realistic_api.requests_to("/v1/messages")
    assert len(requests) == 2
    second_prompt = request_text(requests[1].body)
    assert len(second_prompt) > len(module.read_text(encoding="utf-8"))  # the module and the first stage's map
    assert result.stdout.strip() and "Done: 2 stages" in result.stderr
    assert "Total" not in result.stdout  # stdout is the output alone


def test_a_run_with_a_teams_postgresql_leaves_its_calls_there_when_the_command_ends(
    attune_cmd, api_env, module, postgres_url
):
    result = attune(attune_cmd, {**api_env, "ATTUNE_USER": "ada@team.example"}, "--telemetry", postgres_url,
                    "run", "explain", str(module), "--yes", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    run_id = json.loads(result.stdout)["run_id"]

    from attune.models.telemetry.backend import open_store
    from attune.models.telemetry.outbox import Outbox, outbox_path

    team = open_store(postgres_url)  # read right after the command ended: nothing waits in an outbox
    calls = team.recent_calls("run:explain", limit=10)
    team.close()
    assert [(c.run_id, c.user, c.success) for c in calls] == [(run_id, "ada@team.example", True)] * 2
    assert Outbox(outbox_path(postgres_url)).pending() == 0
    assert get_telemetry_store().get_run(run_id) is not None  # the run itself stays on this machine


def test_ctrl_c_in_the_middle_of_stage_2_cancels_it_and_keeps_stage_1(
    attune_cmd, api_env, realistic_api, module, tmp_path
):
    hold = threading.Event()
    realistic_api.enqueue(gated(_released()), gated(hold))  # stage 1 answers, stage 2 is held
    out = tmp_path / "docs.md"
    process = subprocess.Popen(
        [*attune_cmd, "run", "document", str(module), "--yes", "--out", str(out)],
        env=api_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        realistic_api.wait_for_requests(2)  # stage 2 is in flight
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=DEADLINE_S)
    finally:
        hold.set()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "cancelled during stage write (2 of 4)" in stderr
    assert "1 finished stage(s) kept" in stderr
    assert not out.exists() and stdout == ""
    assert len(realistic_api.requests_to("/v1/messages")) == 2  # stage 3 never started
    store = get_telemetry_store(read_only=True)
    (run,) = store.list_runs()
    assert run.status == "cancelled"
    assert [s.status for s in run.stages] == ["ok", "pending", "pending", "pending"]
    calls = store.recent_calls("run:document", limit=10)
    assert [c.stage for c in calls] == ["outline"]  # no record of the cancelled call


def _released() -> threading.Event:
    gate = threading.Event()
    gate.set()
    return gate


def _run_document_with_breakers_opened_before_stage_3(
    cmd: list[str], env: dict[str, str], api: FakeAnthropic, module: Path, tiers: tuple[str, ...], *options: str
) -> tuple[int, str, str]:
    """`attune run document FILE --yes [options]` while another process opens ``tiers``'
    breakers after stages 1 and 2 were sent (stage 2's answer held until then)."""
    hold = threading.Event()
    api.enqueue(gated(_released()), gated(hold))
    process = subprocess.Popen(
        [*cmd, "run", "document", str(module), "--yes", *options],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        api.wait_for_requests(2)
        open_breaker_in_another_process(env, *tiers)
        hold.set()
        stdout, stderr = process.communicate(timeout=DEADLINE_S)
    finally:
        hold.set()
        if process.poll() is None:
            process.kill()
    return process.returncode, stdout, stderr


def test_a_breaker_opened_by_another_process_before_stage_3_falls_back_to_a_cheaper_tier(
    attune_cmd, api_env, realistic_api, module
):
    returncode, stdout, stderr = _run_document_with_breakers_opened_before_stage_3(
        attune_cmd, api_env, realistic_api, module, ("premium",), "--json"
    )
    assert returncode == 0, stderr
    data = run_json(stdout)
    polish = data["stages"][2]
    assert polish["model"] == "claude-sonnet-4-6" and polish["tier"] == "capable"
    assert "circuit breaker open for anthropic:premium" in stderr
    assert [r.model for r in realistic_api.requests_to("/v1/messages")][2] == "claude-sonnet-4-6"


def test_breakers_opened_before_stage_3_fail_the_run_at_the_first_stage_with_no_model_left(
    attune_cmd, api_env, realistic_api, module
):
    # polish (premium) can fall back to capable; api_reference (cheap) has no cheaper tier
    returncode, stdout, stderr = _run_document_with_breakers_opened_before_stage_3(
        attune_cmd, api_env, realistic_api, module, ("premium", "cheap")
    )
    assert returncode == 1
    assert "run failed: stage api_reference failed" in stderr
    assert "circuit breaker open for anthropic:cheap" in stderr
    assert "Traceback" not in stderr and stdout == ""
    assert [r.model for r in realistic_api.requests_to("/v1/messages")] == [
        "claude-haiku-4-5",
        "claude-sonnet-4-6",
        "claude-sonnet-4-6",
    ]
    (run,) = get_telemetry_store(read_only=True).list_runs()
    assert run.status == "failed" and run.error_type == "circuit_open"
    assert [s.status for s in run.stages] == ["ok", "ok", "ok", "failed"]


# ---- before anything is spent -----------------------------------------------------------------


def test_max_cost_below_the_preview_refuses_and_sends_nothing(attune_cmd, api_env, realistic_api, module):
    result = attune(attune_cmd, api_env, "run", "document", str(module), "--yes", "--max-cost", "0.0001")

    assert result.returncode == 1
    assert "over --max-cost $0.0001; nothing was sent" in result.stderr
    assert realistic_api.requests == []
    assert get_telemetry_store(read_only=True).list_runs() == []


def test_without_a_terminal_it_needs_yes(attune_cmd, api_env, realistic_api, module):
    result = attune(attune_cmd, api_env, "run", "explain", str(module))

    assert result.returncode == 2
    assert "Pass --yes" in result.stderr and "Nothing was sent" in result.stderr
    assert realistic_api.requests == []


def test_dry_run_prints_the_preview_and_loads_no_api_client(attune_cmd, api_env, realistic_api, module):
    code = (
        "import sys\n"
        "from attune.cli.main import main\n"
        "code = main(['run', 'document', sys.argv[1], '--dry-run'])\n"
        "assert 'anthropic' not in sys.modules, 'anthropic was imported'\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(module)], env=api_env, capture_output=True, text=True, timeout=DEADLINE_S
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith("Mode: API.")
    for stage, model in (("outline", "claude-haiku-4-5"), ("polish", "claude-opus-4-6")):
        assert any(line.split()[:2] == [stage, model] for line in lines)
    assert any(line.split()[0] == "total" for line in lines[2:])
    assert lines[-1].endswith("to stdout")
    assert realistic_api.requests == []


def test_an_existing_out_file_is_kept_without_force_and_backed_up_with_it(
    attune_cmd, api_env, realistic_api, module, tmp_path
):
    out = tmp_path / "docs.md"
    out.write_text("my hand-written notes\n", encoding="utf-8")

    refused = attune(attune_cmd, api_env, "run", "explain", str(module), "--yes", "--out", str(out))

    assert refused.returncode == 1 and "pass --force" in refused.stderr
    assert out.read_text(encoding="utf-8") == "my hand-written notes\n"
    assert realistic_api.requests == []

    forced = attune(attune_cmd, api_env, "run", "explain", str(module), "--yes", "--out", str(out), "--force")

    assert forced.returncode == 0, forced.stderr
    (backup,) = tmp_path.glob("docs.md.bak-*")
    assert backup.read_text(encoding="utf-8") == "my hand-written notes\n"
    assert out.read_text(encoding="utf-8").strip() and "my hand-written" not in out.read_text(encoding="utf-8")
    assert f"the old file is at {backup}" in forced.stderr and forced.stdout == ""


def test_a_missing_api_key_is_one_line_before_anything_is_recorded(attune_cmd, cli_env, module):
    result = attune(attune_cmd, cli_env, "run", "explain", str(module), "--yes", "--mode", "api")

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("attune: No Anthropic API key")
    assert get_telemetry_store(read_only=True).list_runs() == []


# ---- the subscription path: Claude Code -------------------------------------------------------


@pytest.fixture
def subscription_env(cli_env: dict[str, str], attune_home: Path) -> dict[str, str]:
    AuthStrategy(subscription_tier="max").save()
    # a key in the environment must not reach Claude Code (it would bill the key)
    return {**cli_env, "ANTHROPIC_API_KEY": TEST_API_KEY}


def test_subscription_run_goes_through_claude_code_and_costs_nothing(
    attune_cmd, subscription_env, module, tmp_path, attune_home
):
    claude = write_claude_stub(tmp_path / "bin", "success")
    env = {**subscription_env, "ATTUNE_CLAUDE_BIN": str(claude)}

    result = attune(attune_cmd, env, "run", "explain", str(module), "--yes", "--mode", "subscription", "--json")

    assert result.returncode == 0, result.stderr
    data = run_json(result.stdout)
    assert data["mode"] == "subscription" and data["status"] == "ok"
    assert data["output"] == STUB_REPLY
    calls = stub_calls(claude)
    assert [c["argv"] for c in calls] == [
        ["-p", "--output-format", "json", "--model", "haiku"],
        ["-p", "--output-format", "json", "--model", "sonnet"],
    ]
    assert not any(c["api_key_in_env"] for c in calls)
    assert data["cost"] == 0 and data["api_equivalent_cost"] > 0
    assert all(s["cache_tokens"] == 100 for s in data["stages"])
    run = get_telemetry_store(read_only=True).get_run(data["run_id"])
    assert run is not None and run.status == "ok" and run.actual_cost == 0
    assert run.actual_api_cost == pytest.approx(data["api_equivalent_cost"])
    assert TEST_API_KEY.encode() not in telemetry_db_bytes(attune_home)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("exit", "Claude Code exited with status 1: Error: something went wrong inside claude"),
        ("malformed", "Claude Code printed something that is not its JSON result"),
        ("not_logged_in", f"Claude Code is not logged in (it said: {NOT_LOGGED_IN})"),
    ],
)
def test_claude_code_failures_fail_the_run_in_one_clear_line(
    attune_cmd, subscription_env, module, tmp_path, mode, message
):
    claude = write_claude_stub(tmp_path / "bin", mode)
    env = {**subscription_env, "ATTUNE_CLAUDE_BIN": str(claude)}

    result = attune(attune_cmd, env, "run", "explain", str(module), "--yes", "--mode", "subscription")

    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    if mode == "not_logged_in":
        assert "--mode api" in result.stderr
    (run,) = get_telemetry_store(read_only=True).list_runs()
    assert run.status == "failed"
    assert len(stub_calls(claude)) == 1  # the first stage failed; nothing more was tried


def test_claude_code_missing_names_it_and_how_to_install(attune_cmd, subscription_env, module, tmp_path):
    env = {**subscription_env, "PATH": str(tmp_path / "empty")}
    env.pop("ATTUNE_CLAUDE_BIN", None)

    result = attune(attune_cmd, env, "run", "explain", str(module), "--yes", "--mode", "subscription")

    assert result.returncode == 1
    (line,) = result.stderr.splitlines()[-1:]
    assert "Claude Code (`claude`) is not on PATH" in line
    assert "npm install -g @anthropic-ai/claude-code" in line and "--mode api" in line
    assert get_telemetry_store(read_only=True).list_runs() == []


def test_a_hung_claude_code_is_stopped_at_the_timeout_and_the_run_fails(attune_cmd, subscription_env, module, tmp_path):
    claude = write_claude_stub(tmp_path / "bin", "hang")
    env = {**subscription_env, "ATTUNE_CLAUDE_BIN": str(claude)}

    result = attune(
        attune_cmd, env, "run", "explain", str(module), "--yes", "--mode", "subscription", "--timeout", "0.5"
    )

    assert result.returncode == 1
    assert "stage map took longer than 0.5 s" in result.stderr
    (run,) = get_telemetry_store(read_only=True).list_runs()
    assert run.status == "failed" and run.error_type == "timeout"
    pids = [c["pid"] for c in stub_calls(claude)]
    assert len(pids) == 1 and not _alive(pids[0])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# ---- on a terminal ----------------------------------------------------------------------------


def _on_a_terminal(cmd: list[str], env: dict[str, str], answer: str) -> tuple[int, str, str]:
    """Run with stdin and stderr on a pseudo-terminal; answer the question when asked."""
    import pty

    master, slave = pty.openpty()
    process = subprocess.Popen(cmd, env=env, stdin=slave, stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    seen = b""
    try:
        while b"[y/N] " not in seen:
            chunk = os.read(master, 4096)
            assert chunk, f"no question asked: {seen!r}"
            seen += chunk
        os.write(master, answer.encode() + b"\n")
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal (EIO)
                break
            if not chunk:
                break
            seen += chunk
        stdout = process.stdout.read() if process.stdout else ""
        process.wait(timeout=DEADLINE_S)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    return process.returncode, stdout, seen.decode("utf-8", "replace")


def test_on_a_terminal_it_asks_before_spending_and_shows_each_stage(attune_cmd, api_env, realistic_api, module):
    code, stdout, terminal = _on_a_terminal([*attune_cmd, "run", "explain", str(module)], api_env, "y")

    assert code == 0, terminal
    assert "Spend ≈$" in terminal and "on the API? [y/N]" in terminal
    assert "[1/2] map · claude-haiku-4-5 · " in terminal and "[2/2] explain · claude-sonnet-4-6 · " in terminal
    assert "tokens so far · ok" in terminal
    assert stdout.strip() and len(realistic_api.requests) == 2


def test_on_a_terminal_no_means_nothing_is_sent(attune_cmd, api_env, realistic_api, module):
    code, stdout, terminal = _on_a_terminal([*attune_cmd, "run", "explain", str(module)], api_env, "n")

    assert code == 0 and "Nothing was sent." in terminal and stdout == ""
    assert realistic_api.requests == []
    assert get_telemetry_store(read_only=True).list_runs() == []


def test_a_plan_without_quota_never_runs_on_the_subscription(attune_cmd, cli_env, module, tmp_path):
    AuthStrategy(subscription_tier="api_only").save()
    claude = write_claude_stub(tmp_path / "bin", "success")
    env = {**cli_env, "ATTUNE_CLAUDE_BIN": str(claude)}

    result = attune(attune_cmd, env, "run", "explain", str(module), "--yes", "--mode", "subscription")

    assert result.returncode == 1
    assert "has no subscription quota" in result.stderr and "--mode api" in result.stderr
    assert stub_calls(claude) == []


def test_ctrl_c_while_claude_code_works_kills_it_and_cancels_the_run(attune_cmd, subscription_env, module, tmp_path):
    claude = write_claude_stub(tmp_path / "bin", "hang")
    env = {**subscription_env, "ATTUNE_CLAUDE_BIN": str(claude)}
    process = subprocess.Popen(
        [*attune_cmd, "run", "explain", str(module), "--yes", "--mode", "subscription"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not stub_calls(claude):  # Claude Code has the prompt
            assert process.poll() is None, process.communicate()
            threading.Event().wait(0.01)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=DEADLINE_S)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "cancelled during stage map (1 of 2)" in stderr and stdout == ""
    (call,) = stub_calls(claude)
    assert not _alive(call["pid"])
    (run,) = get_telemetry_store(read_only=True).list_runs()
    assert run.status == "cancelled" and [s.status for s in run.stages] == ["pending", "pending"]


@pytest.mark.parametrize(
    ("option", "value"),
    [("--max-cost", "-1"), ("--max-cost", "nan"), ("--max-cost", "2000000"), ("--timeout", "0"), ("--timeout", "inf")],
)
def test_bounds_of_the_numeric_options_are_usage_errors(attune_cmd, api_env, realistic_api, module, option, value):
    result = attune(attune_cmd, api_env, "run", "explain", str(module), "--yes", f"{option}={value}")

    assert result.returncode == 2 and option in result.stderr
    assert realistic_api.requests == []


def test_an_unknown_task_is_a_usage_error_naming_the_tasks(attune_cmd, api_env, module):
    result = attune(attune_cmd, api_env, "run", "summarise", str(module), "--dry-run")

    assert result.returncode == 2
    assert "no task 'summarise'; tasks: " in result.stderr and "document" in result.stderr


def test_a_run_given_a_relative_path_is_found_from_any_directory(attune_cmd, api_env, realistic_api, module, tmp_path):
    ran = attune(attune_cmd, api_env, "run", "explain", module.name, "--yes", "--json", cwd=module.parent)
    assert ran.returncode == 0, ran.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    relative = os.path.relpath(module, elsewhere)
    listed = attune(attune_cmd, api_env, "runs", "--file", relative, "--json", cwd=elsewhere)
    assert listed.returncode == 0, listed.stderr
    [run] = run_json(listed.stdout)["runs"]
    assert run["path"] == str(module.resolve())
