"""Live state: other processes change the strategy or trip the breaker; the editor hears of it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from attune.models.strategy.model import AuthStrategy
from support.lsp_session import eventually, python_source, trip_breaker


async def test_cli_setup_in_another_process_refreshes_the_lenses(start_session, tmp_path: Path, cli_env, attune_cmd):
    source = tmp_path / "mod.py"
    source.write_text(python_source(800))
    session = await start_session()
    session.open(source.as_uri(), source.read_text())
    assert (await session.lens_titles(source.as_uri()))[1] == "API (recommended)"
    before = session.received.refreshes

    subprocess.run(
        [*attune_cmd, "auth", "setup", "--tier", "pro", "--mode", "auto"],
        env=cli_env,
        check=True,
        capture_output=True,
        timeout=60,
    )

    await eventually(lambda: session.received.refreshes > before, what="workspace/codeLens/refresh")
    assert (await session.lens_titles(source.as_uri()))[1] == "Subscription (recommended)"


async def test_no_refresh_request_to_a_client_that_cannot_handle_it(start_session, tmp_path: Path):
    source = tmp_path / "mod.py"
    source.write_text(python_source(800))
    session = await start_session(refresh=False)
    session.open(source.as_uri(), source.read_text())
    AuthStrategy(subscription_tier="pro", setup_completed=True).save()
    # the next lens request sees the new strategy even without a refresh request
    titles = await eventually_titles(session, source.as_uri(), "Subscription (recommended)")
    assert titles
    assert session.received.refreshes == 0


async def eventually_titles(session, uri: str, prefix: str) -> list[str]:
    found: list[str] = []

    async def poll() -> bool:
        found[:] = await session.lens_titles(uri)
        return found[1].startswith(prefix)

    import asyncio
    import time

    deadline = time.monotonic() + 5
    while not await poll():
        assert time.monotonic() < deadline, f"lens never said {prefix!r}: {found}"
        await asyncio.sleep(0.1)
    return found


async def test_hand_edit_to_a_corrupt_file_is_reported_and_server_keeps_answering(
    start_session, tmp_path: Path, attune_home: Path
):
    source = tmp_path / "mod.py"
    source.write_text(python_source(10))
    session = await start_session()
    session.open(source.as_uri(), source.read_text())
    await session.lens_titles(source.as_uri())
    before = session.received.refreshes

    (attune_home / "auth_strategy.json").write_text('{"subscription_tier": "pro", ')

    await eventually(lambda: session.received.refreshes > before, what="a refresh after the hand edit")
    titles = await session.lens_titles(source.as_uri())
    assert len(titles) == 1
    assert titles[0].startswith("Attune: strategy file invalid — is not valid JSON")
    assert titles[0].endswith("run `attune auth reset` or fix the file")
    # one warning pop-up for it, not one per poll
    warnings = [m for m in session.client.messages if "strategy file invalid" in m.message]
    assert len(warnings) == 1
    # every other request still answers; the ones needing the strategy say why they cannot
    assert (await session.command("attune.server.breakerStatus"))["open"] == 0
    import pytest
    from pygls.exceptions import JsonRpcException

    with pytest.raises(JsonRpcException) as failed:
        await session.command("attune.server.recommend", source.as_uri())
    assert "strategy file invalid" in failed.value.message
    # the fix is picked up too: reset moves the bad file aside and lenses come back
    await session.command("attune.server.resetAuth", {"confirm": True})
    assert (await session.lens_titles(source.as_uri()))[0] == "Small · 10 lines"
    assert list(attune_home.glob("auth_strategy.json.corrupt-*"))


async def test_breaker_tripped_by_another_process_is_notified(start_session, server_env):
    session = await start_session()
    await eventually(lambda: session.received.breaker, what="the first attune/breakerStatus")

    trip_breaker(server_env, tier="cheap")

    def opened():
        return [p for p in session.received.breaker if p["open"] == 1]

    payload = (await eventually(opened, what="a breakerStatus with the open breaker"))[0]
    entry = payload["providers"]["anthropic:cheap"]
    assert set(entry) == {"state", "failure_count", "opened_at", "retry_at"}
    assert entry["state"] == "open" and entry["failure_count"] == 5
    assert payload["half_open"] == 0

    await session.command("attune.server.resetBreaker", {"provider": "anthropic", "tier": "cheap"})
    await eventually(lambda: session.received.breaker[-1]["open"] == 0, what="a breakerStatus after reset")
