"""Every attune.server.* command through a real client, against the real core and stores."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from attune.models.pricing.pipeline import pipeline_description
from attune.models.strategy.backups import list_backups
from attune.models.strategy.model import AuthStrategy
from support.fake_anthropic import TEST_API_KEY
from support.lsp_session import eventually, python_source, trip_breaker

INVALID_PARAMS = -32602
REQUEST_FAILED = -32803


async def test_setup_auth_saves_validates_and_backs_up(start_session, attune_home: Path):
    session = await start_session()
    first = await session.command("attune.server.setupAuth", {"tier": "pro", "mode": "auto"})
    assert first["subscription_tier"] == "pro" and first["setup_completed"] is True
    assert AuthStrategy.load().to_dict() == first

    second = await session.command(
        "attune.server.setupAuth",
        {
            "tier": "max",
            "mode": "subscription",
            "prefer_subscription": False,
            "small_module_threshold": 100,
            "medium_module_threshold": 900,
            "loc_to_tokens_multiplier": 5.5,
        },
    )
    assert second == AuthStrategy.load().to_dict()
    assert (second["subscription_tier"], second["small_module_threshold"], second["loc_to_tokens_multiplier"]) == (
        "max",
        100,
        5.5,
    )
    backups = list_backups()
    assert json.loads(backups[0].read_text()) == first  # the overwritten strategy was kept

    with pytest.raises(JsonRpcException) as bad:
        await session.command(
            "attune.server.setupAuth", {"tier": "pro", "mode": "auto", "small_module_threshold": 5000}
        )
    assert bad.value.code == INVALID_PARAMS and "small_module_threshold" in bad.value.message
    assert AuthStrategy.load().to_dict() == second  # nothing changed


async def test_reset_auth_refuses_without_confirm_then_backs_up(start_session):
    AuthStrategy(subscription_tier="team", setup_completed=True).save()
    session = await start_session()

    with pytest.raises(JsonRpcException) as refused:
        await session.command("attune.server.resetAuth", {})
    assert refused.value.code == INVALID_PARAMS and "confirm" in refused.value.message
    assert AuthStrategy.load().subscription_tier.value == "team"

    result = await session.command("attune.server.resetAuth", {"confirm": True})
    assert result["previous"]["subscription_tier"] == "team"
    assert json.loads(Path(result["backup"]).read_text())["subscription_tier"] == "team"
    assert AuthStrategy.load().to_dict() == AuthStrategy().to_dict()


async def test_restore_auth_brings_back_newest_or_named(start_session):
    session = await start_session()
    with pytest.raises(JsonRpcException) as none_yet:
        await session.command("attune.server.restoreAuth", {})
    assert none_yet.value.code == REQUEST_FAILED and "no backups" in none_yet.value.message

    await session.command("attune.server.setupAuth", {"tier": "pro", "mode": "auto"})
    reset = await session.command("attune.server.resetAuth", {"confirm": True})
    restored = await session.command("attune.server.restoreAuth", {})
    assert restored["current"]["subscription_tier"] == "pro"
    assert AuthStrategy.load().subscription_tier.value == "pro"

    named = await session.command("attune.server.restoreAuth", {"backup": reset["backup"]})
    assert named["current"]["subscription_tier"] == "pro"
    with pytest.raises(JsonRpcException) as missing:
        await session.command("attune.server.restoreAuth", {"backup": "/nonexistent/backup.json"})
    assert missing.value.code == REQUEST_FAILED and "no such backup" in missing.value.message


async def test_auth_status_is_to_dict_plus_path(start_session, attune_home: Path):
    session = await start_session()
    status = await session.command("attune.server.authStatus")
    assert status == {**AuthStrategy().to_dict(), "path": str(attune_home / "auth_strategy.json"), "file_exists": False}
    await session.command("attune.server.setupAuth", {"tier": "pro", "mode": "api"})
    status = await session.command("attune.server.authStatus")
    assert status["default_mode"] == "api" and status["file_exists"] is True


async def test_recommend_matches_the_cli_json(start_session, tmp_path: Path, cli_env, attune_cmd):
    AuthStrategy(subscription_tier="pro", setup_completed=True).save()
    source = tmp_path / "mod.py"
    source.write_text(python_source(700))
    session = await start_session()

    from_server = await session.command("attune.server.recommend", {"uri": source.as_uri()})
    from_cli = json.loads(
        subprocess.run(
            [*attune_cmd, "auth", "recommend", str(source), "--json"],
            env=cli_env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert from_cli.pop("schema_version") == 1  # the CLI's --json envelope
    assert from_server == from_cli
    assert from_server["mode"] == "subscription" and from_server["lines"] == 700

    session.open(source.as_uri(), python_source(30))  # unsaved edits are what the editor shows
    assert (await session.command("attune.server.recommend", source.as_uri()))["lines"] == 30


async def test_show_details_has_pros_cons_formula_thresholds(start_session, tmp_path: Path):
    source = tmp_path / "mod.py"
    source.write_text(python_source(40))
    session = await start_session()
    session.open(source.as_uri(), source.read_text())
    lenses = await session.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=source.as_uri()))
    )

    # click the lens: run exactly the command it carries
    details = await session.command(lenses[0].command.command, *lenses[0].command.arguments)

    strategy = AuthStrategy()
    assert details["pros_cons"] == strategy.get_pros_cons(40)
    assert details["formula"] == pipeline_description()
    assert details["thresholds"] == {
        "small_module_threshold": 500,
        "medium_module_threshold": 2000,
        "loc_to_tokens_multiplier": 4.0,
    }
    assert details["report"]["lines"] == 40
    await eventually(lambda: session.client.messages, what="the showMessage summary")
    assert "40 lines of code" in session.client.messages[-1].message


async def test_show_details_message_can_be_turned_off(start_session, tmp_path: Path):
    source = tmp_path / "mod.py"
    source.write_text(python_source(40))
    session = await start_session(init_options={"details": {"showMessage": False}})
    details = await session.command("attune.server.showDetails", {"uri": source.as_uri()})
    assert details["report"]["lines"] == 40
    await session.command("attune.server.authStatus")  # a later response: any message would be in by now
    assert session.client.messages == []


async def test_show_details_for_a_tier_being_chosen_saves_nothing(start_session, tmp_path: Path):
    saved = AuthStrategy(subscription_tier="api_only", default_mode="auto", setup_completed=True)
    saved.save()
    source = tmp_path / "mod.py"
    source.write_text(python_source(1000))
    session = await start_session(init_options={"details": {"showMessage": False}})
    uri = source.as_uri()

    as_saved = await session.command("attune.server.showDetails", {"uri": uri})
    assert as_saved["pros_cons"]["auto"]["recommended_mode"] == "api"
    assert "no subscription quota" in " ".join(as_saved["pros_cons"]["subscription"]["cons"])
    assert as_saved["what_if"] is None

    # The wizard asks for the plan picked in its first step (Pro) before anything is saved.
    as_pro = await session.command("attune.server.showDetails", {"uri": uri, "tier": "pro"})
    assert as_pro["pros_cons"]["auto"]["recommended_mode"] == "subscription"
    assert as_pro["report"]["mode"] == "subscription"
    assert "no subscription quota" not in " ".join(as_pro["pros_cons"]["subscription"]["cons"])
    assert as_pro["what_if"] == {"subscription_tier": "pro"}
    as_pro_api = await session.command("attune.server.showDetails", {"uri": uri, "tier": "pro", "mode": "api"})
    assert as_pro_api["report"]["mode"] == "api"  # an explicit mode is what runs
    assert AuthStrategy.load().to_dict() == saved.to_dict()

    for bad_args, field in (
        ({"uri": uri, "tier": "platinum"}, "tier"),
        ({"uri": uri, "mode": "cheapest"}, "mode"),
        ({"uri": uri, "tier": 3}, "tier"),
    ):
        with pytest.raises(JsonRpcException) as bad:
            await session.command("attune.server.showDetails", bad_args)
        assert bad.value.code == INVALID_PARAMS and field in bad.value.message, bad_args
    assert AuthStrategy.load().to_dict() == saved.to_dict()


async def test_breaker_status_and_reset(start_session, server_env):
    session = await start_session()
    assert await session.command("attune.server.breakerStatus") == {"providers": {}, "open": 0, "half_open": 0}

    trip_breaker(server_env, tier="premium")
    status = await session.command("attune.server.breakerStatus")
    assert status["open"] == 1
    entry = status["providers"]["anthropic:premium"]
    assert entry["state"] == "open" and entry["failure_count"] == 5 and entry["retry_at"]

    with pytest.raises(JsonRpcException) as bad:
        await session.command("attune.server.resetBreaker", {"tier": "premium"})
    assert bad.value.code == INVALID_PARAMS and "provider" in bad.value.message

    after = await session.command("attune.server.resetBreaker", {"provider": "anthropic", "tier": "premium"})
    assert after["open"] == 0
    assert (await session.command("attune.server.breakerStatus"))["open"] == 0


async def test_count_tokens_without_a_key_says_how_to_provide_one(start_session, tmp_path: Path):
    source = tmp_path / "mod.py"
    source.write_text(python_source(3))
    session = await start_session()
    with pytest.raises(JsonRpcException) as missing:
        await session.command("attune.server.countTokens", {"uri": source.as_uri()})
    assert missing.value.code == REQUEST_FAILED and "ANTHROPIC_API_KEY" in missing.value.message
    assert (await session.command("attune.server.breakerStatus"))["open"] == 0  # still answering


async def test_count_tokens_exact_count_replaces_the_estimate_in_the_lens(
    start_session, server_env, fake_api, tmp_path: Path
):
    source = tmp_path / "mod.py"
    text = python_source(25)
    source.write_text(text)
    env = {**server_env, "ANTHROPIC_API_KEY": TEST_API_KEY, "ANTHROPIC_BASE_URL": fake_api.base_url}
    session = await start_session(env=env)
    uri = source.as_uri()
    session.open(uri, text)
    estimate = (await session.lens_commands(uri))[2].tooltip
    assert "exact" not in estimate

    refreshes = session.received.refreshes
    result = await session.command("attune.server.countTokens", {"uri": uri})

    words = len(text.split())  # the fake counts one token per word
    assert result["tokens"] == words
    assert len(fake_api.requests_to("/v1/messages/count_tokens")) == 1
    await eventually(lambda: session.received.refreshes > refreshes, what="a lens refresh")
    exact = (await session.lens_commands(uri))[2].tooltip
    assert f"Module: ≈{words:,} tokens (exact count)" in exact

    session.replace(uri, text + "extra_line = 1\n", version=2)  # a new version: back to the estimate
    assert "exact" not in (await session.lens_commands(uri))[2].tooltip
