"""The strategy's bounds (docs/limits.md) through a real LSP client: a value out of
range is InvalidParams naming the field, and never breaks a later command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from support.lsp_session import python_source

INVALID_PARAMS = -32602


@pytest.mark.parametrize(
    ("setting", "field"),
    [
        ({"loc_to_tokens_multiplier": 1e308}, "loc_to_tokens_multiplier"),
        ({"loc_to_tokens_multiplier": 0.05}, "loc_to_tokens_multiplier"),
        ({"medium_module_threshold": 10_000_001}, "medium_module_threshold"),
    ],
)
async def test_setup_auth_out_of_range_is_invalid_params_and_changes_nothing(
    start_session, tmp_path: Path, attune_home: Path, setting, field
):
    source = tmp_path / "mod.py"
    source.write_text(python_source(40))
    session = await start_session(init_options={"details": {"showMessage": False}})
    with pytest.raises(JsonRpcException) as bad:
        await session.command("attune.server.setupAuth", {"tier": "pro", "mode": "auto", **setting})
    assert bad.value.code == INVALID_PARAMS
    assert "attune.server.setupAuth" in bad.value.message and field in bad.value.message, bad.value.message
    assert not (attune_home / "auth_strategy.json").exists()
    # every per-file command still answers
    assert (await session.command("attune.server.recommend", source.as_uri()))["tokens"] == 160
    details = await session.command("attune.server.showDetails", {"uri": source.as_uri()})
    assert details["report"]["lines"] == 40
    assert (await session.lens_titles(source.as_uri()))[0] == "Small · 40 lines"


async def test_a_strategy_file_out_of_range_is_shown_as_invalid(start_session, tmp_path: Path, attune_home: Path):
    (attune_home / "auth_strategy.json").write_text(
        json.dumps({"subscription_tier": "pro", "loc_to_tokens_multiplier": 1e308})
    )
    source = tmp_path / "mod.py"
    source.write_text(python_source(40))
    session = await start_session()
    titles = await session.lens_titles(source.as_uri())
    assert len(titles) == 1 and titles[0].startswith("Attune: strategy file invalid — "), titles
    assert "loc_to_tokens_multiplier" in titles[0]
    with pytest.raises(JsonRpcException) as failed:
        await session.command("attune.server.showDetails", {"uri": source.as_uri()})
    assert "loc_to_tokens_multiplier" in failed.value.message and "Overflow" not in failed.value.message
