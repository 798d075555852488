"""Previewing and running a task from the editor: attune.server.previewTask and
attune.server.runTask through a real client, the real SDK against the loopback fake
API (realistic token counts), Claude Code replaced by the stub, the real SQLite
telemetry store; and the lens line of a file's last run."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from attune.models.strategy.model import AuthStrategy
from attune.models.telemetry.store import get_telemetry_store
from support.claude_stub import STUB_REPLY, write_claude_stub
from support.fake_anthropic import TEST_API_KEY, FakeAnthropic, gated
from support.lsp_session import Session, eventually, python_source

PREVIEW = "attune.server.previewTask"
RUN = "attune.server.runTask"
REQUEST_FAILED = -32803
DEADLINE_S = 60.0  # only ends a broken test; nothing is timed against it


@pytest.fixture
def module(tmp_path: Path) -> Path:
    path = tmp_path / "config_parser.py"
    path.write_text(python_source(40), encoding="utf-8")
    return path


@pytest.fixture
def api_env(server_env: dict[str, str], realistic_api: FakeAnthropic) -> dict[str, str]:
    return {**server_env, "ANTHROPIC_API_KEY": TEST_API_KEY, "ANTHROPIC_BASE_URL": realistic_api.base_url}


def _released() -> threading.Event:
    gate = threading.Event()
    gate.set()
    return gate


def run_request(
    session: Session, token: str | None, msg_id: str | None = None, **arguments: Any
) -> asyncio.Future[Any]:
    if token is not None:
        session.client.progress_reports.setdefault(token, [])  # the client names the token itself
    params = types.ExecuteCommandParams(command=RUN, arguments=[arguments], work_done_token=token)
    return asyncio.ensure_future(
        session.client.protocol.send_request_async(types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id)
    )


async def test_preview_prices_the_stages_and_sends_nothing(start_session, api_env, realistic_api, module):
    session = await start_session(env=api_env)
    preview = await session.command(PREVIEW, {"uri": module.as_uri(), "task": "explain"})
    assert preview["task"] == "explain" and preview["path"] == str(module)
    assert preview["mode"] == "api" and preview["reason"]
    assert [s["stage"] for s in preview["estimate"]["stages"]] == ["map", "explain"]
    assert all(s["model"] and s["cost"] > 0 for s in preview["estimate"]["stages"])
    assert preview["estimate"]["total_cost"] > 0 and preview["output"]
    assert realistic_api.requests == []

    with pytest.raises(JsonRpcException) as unknown:
        await session.command(PREVIEW, {"uri": module.as_uri(), "task": "nope"})
    assert unknown.value.code == REQUEST_FAILED and "unknown task" in unknown.value.message


async def test_run_without_confirm_returns_the_preview_and_sends_nothing(start_session, api_env, realistic_api, module):
    session = await start_session(env=api_env)
    refused = await session.command(RUN, {"uri": module.as_uri(), "task": "explain", "mode": "api"})
    assert refused["confirmed"] is False
    assert refused["preview"]["task"] == "explain" and refused["preview"]["estimate"]["stages"]
    assert realistic_api.requests == []
    assert get_telemetry_store(read_only=True).list_runs() == []


async def test_api_run_reports_progress_in_order_and_returns_the_record(start_session, api_env, realistic_api, module):
    session = await start_session(env=api_env)
    result = await run_request(session, "run-1", uri=module.as_uri(), task="explain", mode="api", confirm=True)
    assert result["status"] == "ok" and result["mode"] == "api" and result["output"]
    assert [s["stage"] for s in result["stages"]] == ["map", "explain"]
    assert result["record"]["run_id"] == result["run_id"] and result["record"]["status"] == "ok"
    assert [r.model for r in realistic_api.requests_to("/v1/messages")] == [s["model"] for s in result["stages"]]

    reports = await eventually(
        lambda: (r := session.client.progress_reports.get("run-1")) and r[-1].kind == "end" and r,
        DEADLINE_S,
        "the progress end",
    )
    kinds = [r.kind for r in reports]
    assert kinds == ["begin", "report", "report", "report", "report", "end"]
    messages = [r.message for r in reports[1:5]]
    assert "[1/2] map" in messages[0] and "running" in messages[0] and "0 tokens so far" in messages[0]
    assert "[1/2] map" in messages[1] and "ok" in messages[1]
    assert "[2/2] explain" in messages[2] and result["stages"][1]["model"] in messages[2]
    first_tokens = result["stages"][0]["input_tokens"] + result["stages"][0]["output_tokens"]
    assert f"{first_tokens:,} tokens so far" in messages[2]
    assert f"{result['tokens']:,} tokens so far" in messages[3]
    assert reports[-1].message.startswith("ok")


async def test_cancel_through_the_progress_token_during_stage_2_keeps_stage_1(
    start_session, api_env, realistic_api, module
):
    hold = threading.Event()
    realistic_api.enqueue(gated(_released()), gated(hold))  # stage 1 answers, stage 2 is held
    session = await start_session(env=api_env)
    try:
        pending = run_request(session, "run-c", uri=module.as_uri(), task="document", mode="api", confirm=True)
        await asyncio.to_thread(realistic_api.wait_for_requests, 2)  # stage 2 is in flight
        session.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token="run-c"))
        result = await asyncio.wait_for(pending, DEADLINE_S)
    finally:
        hold.set()
    assert result["status"] == "cancelled" and result["output"] == ""
    assert "cancelled during stage write (2 of 4)" in result["error"]
    assert [s["status"] for s in result["stages"]] == ["ok", "cancelled"]
    assert len(realistic_api.requests_to("/v1/messages")) == 2  # stage 3 never started
    run = get_telemetry_store(read_only=True).get_run(result["run_id"])
    assert run is not None and run.status == "cancelled"
    assert [s.status for s in run.stages] == ["ok", "pending", "pending", "pending"]
    reports = session.client.progress_reports["run-c"]
    assert reports[-1].kind == "end" and reports[-1].message.startswith("cancelled")


async def test_cancel_request_cancels_the_run_in_flight(start_session, api_env, realistic_api, module):
    hold = threading.Event()
    realistic_api.enqueue(gated(_released()), gated(hold))
    session = await start_session(env=api_env)
    try:
        pending = run_request(
            session, None, "run-request", uri=module.as_uri(), task="document", mode="api", confirm=True
        )
        await asyncio.to_thread(realistic_api.wait_for_requests, 2)
        session.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="run-request"))
        with pytest.raises(JsonRpcException):  # answered as cancelled
            await asyncio.wait_for(pending, DEADLINE_S)
        store = get_telemetry_store(read_only=True)
        run = await eventually(
            lambda: (runs := store.list_runs()) and runs[0].status == "cancelled" and runs[0],
            DEADLINE_S,
            "the run marked cancelled",
        )
    finally:
        hold.set()
    assert [s.status for s in run.stages] == ["ok", "pending", "pending", "pending"]
    assert len(realistic_api.requests_to("/v1/messages")) == 2


async def test_other_requests_are_answered_while_a_run_is_in_flight(start_session, api_env, realistic_api, module):
    hold = threading.Event()
    realistic_api.enqueue(gated(hold))  # stage 1 is held
    session = await start_session(env=api_env)
    other = module.parent / "other.py"
    other.write_text(python_source(10), encoding="utf-8")
    try:
        pending = run_request(session, "run-b", uri=module.as_uri(), task="explain", mode="api", confirm=True)
        await asyncio.to_thread(realistic_api.wait_for_requests, 1)
        titles = await session.lens_titles(other.as_uri())
        assert titles and titles[0] == "Small · 10 lines"
        status = await session.command("attune.server.authStatus")
        assert "subscription_tier" in status
        preview = await session.command(PREVIEW, {"uri": other.as_uri(), "task": "review"})
        assert preview["task"] == "review"
        assert not pending.done()  # all of that while stage 1 was still held
    finally:
        hold.set()
    result = await asyncio.wait_for(pending, DEADLINE_S)
    assert result["status"] == "ok"


async def test_subscription_run_goes_through_claude_code(start_session, server_env, module, tmp_path):
    AuthStrategy(subscription_tier="max").save()
    claude = write_claude_stub(tmp_path / "bin", "success")
    env = {**server_env, "ATTUNE_CLAUDE_BIN": str(claude)}
    session = await start_session(env=env)
    result = await session.command(
        RUN, {"uri": module.as_uri(), "task": "explain", "mode": "subscription", "confirm": True}
    )
    assert result["status"] == "ok" and result["mode"] == "subscription"
    assert result["cost"] == 0 and result["api_equivalent_cost"] > 0
    assert STUB_REPLY in result["output"]
    assert all(s["via"].startswith("claude -p --model") for s in result["stages"])

    (last,) = [c for c in await session.lens_commands(module.as_uri()) if c.title.startswith("last run $")]
    assert "explain run of this file, subscription, API-equivalent dollars" in last.tooltip


async def test_the_lens_shows_the_last_run_after_it(start_session, api_env, realistic_api, module):
    session = await start_session(env=api_env)
    session.open(module.as_uri(), module.read_text(encoding="utf-8"))
    before = await session.lens_titles(module.as_uri())
    assert not any(t.startswith("last run") for t in before)

    result = await session.command(RUN, {"uri": module.as_uri(), "task": "explain", "mode": "api", "confirm": True})
    assert result["status"] == "ok"
    await eventually(lambda: session.received.refreshes > 0, DEADLINE_S, "a lens refresh")
    commands = await session.lens_commands(module.as_uri())
    (last,) = [c for c in commands if c.title.startswith("last run")]
    record = get_telemetry_store(read_only=True).get_run(result["run_id"])
    assert record is not None
    from attune.models.formatting import format_money

    actual, estimate = format_money(record.actual_api_cost or 0.0), format_money(record.estimated_api_cost)
    assert last.title == f"last run {actual} (est. {estimate})" and len(last.title) <= 50
    pct = record.error_pct
    assert pct is not None and f"({pct:+.0f}%)".replace("-", "\u2212") in last.tooltip
    assert f"attune runs show {record.run_id}" in last.tooltip


async def test_without_a_token_the_server_creates_one_when_the_client_supports_it(
    start_session, api_env, realistic_api, module
):
    session = await start_session(env=api_env, work_done_progress=True)
    result = await session.command(RUN, {"uri": module.as_uri(), "task": "explain", "mode": "api", "confirm": True})
    assert result["status"] == "ok"
    (token,) = session.client.progress_reports  # created by window/workDoneProgress/create
    reports = await eventually(
        lambda: (r := session.client.progress_reports[token]) and r[-1].kind == "end" and r,
        DEADLINE_S,
        "the progress end",
    )
    assert [r.kind for r in reports] == ["begin", "report", "report", "report", "report", "end"]
    assert str(token).startswith("attune-run-")


async def test_a_client_without_progress_support_gets_the_record_alone(start_session, api_env, realistic_api, module):
    session = await start_session(env=api_env)
    result = await session.command(RUN, {"uri": module.as_uri(), "task": "explain", "mode": "api", "confirm": True})
    assert result["status"] == "ok" and session.client.progress_reports == {}


async def test_a_run_in_a_terminal_refreshes_the_lens(start_session, api_env, realistic_api, module):
    session = await start_session(env=api_env)
    session.open(module.as_uri(), module.read_text(encoding="utf-8"))
    assert not any(t.startswith("last run") for t in await session.lens_titles(module.as_uri()))
    refreshes = session.received.refreshes

    cli = [sys.executable, "-m", "attune.cli", "run", "explain", str(module), "--mode", "api", "--yes", "--json"]
    done = await asyncio.to_thread(
        subprocess.run, cli, env=api_env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=DEADLINE_S
    )
    assert done.returncode == 0, done.stderr
    await eventually(lambda: session.received.refreshes > refreshes, DEADLINE_S, "a lens refresh")
    titles = await session.lens_titles(module.as_uri())
    assert any(t.startswith("last run $") for t in titles), titles


async def test_a_run_lens_appears_only_where_a_task_can_run(start_session, server_env, api_env, module, tmp_path):
    session = await start_session(env=api_env)  # an API key
    session.open(module.as_uri(), module.read_text(encoding="utf-8"))
    (run,) = [c for c in await session.lens_commands(module.as_uri()) if c.title == "Run…"]
    assert run.command == "attune.runTask" and [dict(a) for a in run.arguments] == [{"uri": module.as_uri()}]

    no_claude = {**server_env, "PATH": str(tmp_path / "empty-bin")}  # no key, no `claude` on PATH
    (tmp_path / "empty-bin").mkdir()
    bare = await start_session(env=no_claude)
    bare.open(module.as_uri(), module.read_text(encoding="utf-8"))
    assert "Run…" not in await bare.lens_titles(module.as_uri())
