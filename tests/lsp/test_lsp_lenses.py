"""Lenses through a real client: what a user sees at the top of a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from attune.models.formatting import format_count, format_money
from attune.models.strategy.model import AuthMode, AuthStrategy, SubscriptionTier
from support.lsp_session import eventually, python_source


def api_cost_title(strategy: AuthStrategy, lines: int) -> str:
    """The cost lens: the document task's API price, whatever the plan."""
    return f"API ≈ {format_money(strategy.estimate_cost(lines, AuthMode.API)['monetary_cost'])}"


async def test_breaker_status_is_sent_once_after_initialized(start_session):
    session = await start_session()
    await eventually(lambda: session.received.breaker, what="the first attune/breakerStatus")
    assert session.received.breaker[0] == {"providers": {}, "open": 0, "half_open": 0}


async def test_initialize_result(start_session, server_env):
    from pytest_lsp import ClientServerConfig

    from support.lsp_session import SERVER, capabilities

    client = await ClientServerConfig(server_command=SERVER, server_env=server_env).start()
    try:
        result = await client.initialize_session(types.InitializeParams(capabilities=capabilities()))
        assert result.server_info.name == "attune-lsp"
        assert result.capabilities.code_lens_provider is not None
        assert set(result.capabilities.execute_command_provider.commands) == {
            "attune.server.setupAuth",
            "attune.server.resetAuth",
            "attune.server.restoreAuth",
            "attune.server.authStatus",
            "attune.server.recommend",
            "attune.server.breakerStatus",
            "attune.server.resetBreaker",
            "attune.server.countTokens",
            "attune.server.showDetails",
            "attune.server.previewTask",
            "attune.server.runTask",
        }
        await client.shutdown_session()
    finally:
        await client.stop()


async def test_small_file_on_api_only_plan(start_session, tmp_path: Path):
    source = tmp_path / "small.py"
    source.write_text(python_source(120))
    session = await start_session()
    session.open(source.as_uri(), source.read_text())

    titles = await session.lens_titles(source.as_uri())

    strategy = AuthStrategy()
    assert titles[0] == "Small · 120 lines"
    assert titles[1] == "API (recommended)"
    assert titles[2] == api_cost_title(strategy, 120)
    assert all(len(t) <= 50 for t in titles), titles
    commands = await session.lens_commands(source.as_uri())
    assert strategy.recommend(120).reason in commands[1].tooltip
    assert "small < 500 ≤ medium < 2,000 ≤ large" in commands[0].tooltip.lower()
    cost = commands[2].tooltip
    assert "document on the API: ≈$" in cost and "outline (claude-haiku-4-5):" in cost
    assert "Module: ≈480 tokens (default 4 tokens/line)" in cost and "subscription" not in cost


@pytest.mark.parametrize("tier", [SubscriptionTier.API_ONLY, SubscriptionTier.FREE])
async def test_a_plan_without_quota_sees_no_subscription_in_any_lens(start_session, tmp_path: Path, tier):
    # 3,000 lines: on Pro this file runs on the subscription and its lens prices it
    AuthStrategy(subscription_tier=tier, setup_completed=True).save()
    source = tmp_path / "big.py"
    source.write_text(python_source(3_000))
    session = await start_session()
    session.open(source.as_uri(), source.read_text())

    titles = await session.lens_titles(source.as_uri())

    assert titles[0] == "Large · 3,000 lines"
    assert titles[1] == "API (recommended)"
    assert titles[2].startswith("API ≈ $")
    texts = [t for c in await session.lens_commands(source.as_uri()) for t in (c.title, c.tooltip or "")]
    assert not [t for t in texts if "subscription" in t.lower() or "of quota" in t], texts


async def test_large_file_under_pro_strategy_prefers_subscription(start_session, tmp_path: Path):
    strategy = AuthStrategy(subscription_tier=SubscriptionTier.PRO, setup_completed=True)
    strategy.save()
    source = tmp_path / "big.py"
    source.write_text(python_source(3_000))
    session = await start_session()
    session.open(source.as_uri(), source.read_text())

    titles = await session.lens_titles(source.as_uri())

    assert titles == [
        "Large · 3,000 lines",
        "Subscription (recommended)",
        api_cost_title(strategy, 3_000),
    ]
    commands = await session.lens_commands(source.as_uri())
    assert strategy.recommend(3_000).reason in commands[1].tooltip
    sub = strategy.estimate_cost(3_000, AuthMode.SUBSCRIPTION)
    assert f"On your subscription: $0, ≈{format_count(sub['tokens_used'])} tokens of quota" in commands[2].tooltip


async def test_same_file_other_strategy_other_answer(start_session, tmp_path: Path):
    AuthStrategy(
        subscription_tier=SubscriptionTier.MAX,
        prefer_subscription=False,
        small_module_threshold=50,
        medium_module_threshold=100,
    ).save()
    source = tmp_path / "mid.py"
    source.write_text(python_source(75))
    session = await start_session()
    session.open(source.as_uri(), source.read_text())

    titles = await session.lens_titles(source.as_uri())

    assert titles[0] == "Medium · 75 lines"
    assert titles[1] == "API (recommended)"
    assert "prefer the API" in (await session.lens_commands(source.as_uri()))[1].tooltip


async def test_generated_file_says_so(start_session, tmp_path: Path):
    source = tmp_path / "gen.go"
    source.write_text("// Code generated by protoc-gen-go. DO NOT EDIT.\n\npackage x\n\nvar A = 1\n")
    session = await start_session()
    session.open(source.as_uri(), source.read_text(), language_id="go")

    titles = await session.lens_titles(source.as_uri())

    assert titles[0].endswith(" · generated")


async def test_untitled_buffer_gets_lenses(start_session):
    session = await start_session()
    session.open("untitled:Untitled-1", python_source(10))

    titles = await session.lens_titles("untitled:Untitled-1")

    assert titles[0] == "Small · 10 lines"


async def test_edit_is_recounted(start_session, tmp_path: Path):
    source = tmp_path / "grow.py"
    source.write_text(python_source(10))
    session = await start_session(init_options={"lens": {"debounceMs": 50}})
    uri = source.as_uri()
    session.open(uri, source.read_text())
    assert (await session.lens_titles(uri))[0] == "Small · 10 lines"

    session.replace(uri, python_source(600), version=2)

    assert (await session.lens_titles(uri))[0] == "Medium · 600 lines"


async def test_unsaved_text_is_what_counts_not_the_disk(start_session, tmp_path: Path):
    source = tmp_path / "unsaved.py"
    source.write_text(python_source(10))
    session = await start_session()
    session.open(source.as_uri(), python_source(42))

    assert (await session.lens_titles(source.as_uri()))[0] == "Small · 42 lines"


async def test_settings_choose_parts_and_can_turn_lenses_off(start_session, tmp_path: Path):
    source = tmp_path / "a.py"
    source.write_text(python_source(5))
    session = await start_session(init_options={"attune": {"lens": {"show": ["cost"]}}})
    session.open(source.as_uri(), source.read_text())
    titles = await session.lens_titles(source.as_uri())
    assert len(titles) == 1 and titles[0].startswith("API ≈ $")

    before = session.received.refreshes
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"attune": {"lens": {"enabled": False}}})
    )
    await eventually(lambda: session.received.refreshes > before, what="a lens refresh after settings")
    assert await session.lens_titles(source.as_uri()) == []


async def test_invalid_settings_fall_back_to_defaults_with_a_warning(start_session, tmp_path: Path):
    source = tmp_path / "a.py"
    source.write_text(python_source(5))
    session = await start_session(init_options={"lens": {"debounceMs": "soon", "show": ["size", "colour"]}})
    session.open(source.as_uri(), source.read_text())

    titles = await session.lens_titles(source.as_uri())

    assert len(titles) == 3  # show fell back to all parts
    warnings = [m.message for m in session.client.log_messages if m.type == types.MessageType.Warning]
    assert any("attune.lens.debounceMs" in w for w in warnings)
    assert any("attune.lens.show" in w for w in warnings)


async def test_settings_pulled_when_the_change_notification_carries_none(start_session, tmp_path: Path):
    source = tmp_path / "a.py"
    source.write_text(python_source(5))
    session = await start_session()
    session.open(source.as_uri(), source.read_text())
    assert len(await session.lens_titles(source.as_uri())) == 3

    session.client.set_configuration({"lens": {"show": ["size", "mode"]}}, section="attune")
    before = session.received.refreshes
    session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await eventually(lambda: session.received.refreshes > before, what="a refresh after pulled settings")

    assert len(await session.lens_titles(source.as_uri())) == 2


async def test_save_recounts_at_once_without_waiting_for_the_debounce(start_session, tmp_path: Path):
    import asyncio

    source = tmp_path / "saved.py"
    source.write_text(python_source(10))
    session = await start_session(init_options={"lens": {"debounceMs": 10_000}})
    uri = source.as_uri()
    session.open(uri, source.read_text())
    assert (await session.lens_titles(uri))[0] == "Small · 10 lines"

    session.replace(uri, python_source(20), version=2)
    session.client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )

    # With a 10 s debounce the count would still be pending; the save started it now.
    # (A generous hang guard, not a speed assertion.)
    titles = await asyncio.wait_for(session.lens_titles(uri), timeout=8)
    assert titles[0] == "Small · 20 lines"
