"""Claude Code's usage and the calibration, as the editor sees them through a real
client: ``attune/usage`` after each change of the logs, the block budget in the
recommendation, and lenses that use (and name) the calibrated estimate."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from attune.models.calibration import Calibration, LanguageRates, RateInterval, save_calibration
from attune.models.formatting import format_money
from attune.models.strategy.estimates import estimate_task
from attune.models.strategy.model import AuthStrategy, SubscriptionTier
from support.claude_logs import ClaudeLogs
from support.lsp_session import eventually, python_source


def python_rates(files: int, per_byte: float) -> LanguageRates:
    return LanguageRates(
        tokens_per_line=RateInterval(value=10.0, low=8.0, high=12.0),
        tokens_per_byte=RateInterval(value=per_byte, low=per_byte * 0.9, high=per_byte * 1.1),
        files=files,
        source="count_tokens",
        model="claude-sonnet-4-5",
        measured_at=datetime.now(UTC),
    )


async def eventually_async(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """Wait until an asynchronous check holds (a lens asked again and again)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, "the condition did not become true"
        await asyncio.sleep(0.2)


async def test_usage_is_sent_at_start_and_after_each_new_message(start_session, server_env, claude_logs: ClaudeLogs):
    session_file = claude_logs.session_path()
    start = datetime.now(UTC) - timedelta(minutes=30)
    claude_logs.write(session_file, claude_logs.message(start, input_tokens=1_000, output_tokens=200))
    session = await start_session(env={**server_env, "ATTUNE_CLAUDE_LOGS": str(claude_logs.root)})

    first = await eventually(lambda: session.received.usage, what="the first attune/usage")
    assert first[0]["found"] is True
    block = first[0]["current_block"]
    assert block["total_tokens"] == 1_200 and block["is_active"] is True
    assert 0 < block["seconds_left"] <= 5 * 3600
    same_day = start.astimezone().date() == datetime.now().astimezone().date()
    assert first[0]["today"]["total_tokens"] == (1_200 if same_day else 0)
    assert first[0]["budget_tokens"] is None and first[0]["budget_used_percent"] is None

    claude_logs.write(session_file, claude_logs.message(start + timedelta(minutes=5), input_tokens=10, output_tokens=5))
    await eventually(lambda: len(session.received.usage) >= 2, timeout=15, what="a second attune/usage")
    assert session.received.usage[1]["current_block"]["total_tokens"] == 1_215


async def test_without_logs_usage_says_none_were_found(start_session, server_env, tmp_path: Path):
    session = await start_session(env={**server_env, "ATTUNE_CLAUDE_LOGS": str(tmp_path / "nowhere")})
    payload = (await eventually(lambda: session.received.usage, what="attune/usage"))[0]
    assert payload["found"] is False and payload["current_block"] is None
    assert payload["roots"] == [str(tmp_path / "nowhere")]


async def test_a_nearly_used_block_sends_medium_modules_to_the_api(
    start_session, server_env, claude_logs: ClaudeLogs, tmp_path: Path
):
    AuthStrategy(
        subscription_tier=SubscriptionTier.MAX, subscription_block_budget_tokens=1_000, setup_completed=True
    ).save()
    claude_logs.write(
        claude_logs.session_path(),
        claude_logs.message(datetime.now(UTC) - timedelta(minutes=10), input_tokens=900, output_tokens=50),
    )
    source = tmp_path / "medium.py"
    source.write_text(python_source(800))
    session = await start_session(env={**server_env, "ATTUNE_CLAUDE_LOGS": str(claude_logs.root)})
    usage = await eventually(lambda: session.received.usage, what="attune/usage")
    assert usage[0]["budget_tokens"] == 1_000 and usage[0]["budget_used_percent"] == 95.0
    session.open(source.as_uri(), source.read_text())

    seen = []

    async def reason_names_the_block() -> bool:
        seen.append((await session.lens_commands(source.as_uri()))[1])
        return "your subscription block is 95% used (resets in" in (seen[-1].tooltip or "")

    await eventually_async(reason_names_the_block)
    assert seen[-1].title == "API (recommended)"
    assert seen[-1].tooltip.startswith("Medium module (800 lines): your subscription block is 95% used")


async def test_lenses_use_and_name_the_calibrated_estimate(start_session, tmp_path: Path):
    source = tmp_path / "mod.py"
    source.write_text(python_source(120))
    size = len(source.read_bytes())
    session = await start_session()
    session.open(source.as_uri(), source.read_text())
    assert "Module: ≈480 tokens (default 4 tokens/line)" in (await session.lens_commands(source.as_uri()))[2].tooltip

    save_calibration(Calibration(languages={"Python": python_rates(40, 0.5)}))
    await eventually(lambda: session.received.refreshes, what="a lens refresh after the calibration changed")
    cost = (await session.lens_commands(source.as_uri()))[2]
    tokens = round(0.5 * size)
    assert f"Module: ≈{tokens:,} tokens (calibrated: Python, 40 files)" in cost.tooltip
    assert cost.title == f"API ≈ {format_money(estimate_task('document', tokens=tokens, mode='api').total_cost)}"
