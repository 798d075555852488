"""What an editor needs to offer the tasks of a file before running one: the
preview names the task's description and the modes the user's plan can run it in,
through a real client, sending nothing."""

from __future__ import annotations

from pathlib import Path

from attune.models.strategy.model import AuthStrategy
from support.lsp_session import python_source

PREVIEW = "attune.server.previewTask"
TASKS = ("document", "review", "explain", "tests")


async def test_each_task_preview_has_its_description_and_only_the_api_on_an_api_plan(
    start_session, server_env, tmp_path: Path
):
    module = tmp_path / "parser.py"
    module.write_text(python_source(40), encoding="utf-8")
    session = await start_session(env=server_env)
    previews = [await session.command(PREVIEW, {"uri": module.as_uri(), "task": task}) for task in TASKS]
    descriptions = [p["description"] for p in previews]
    assert all(descriptions) and len(set(descriptions)) == len(TASKS)
    assert "Explain" in previews[2]["description"]
    assert all(p["offered_modes"] == ["api"] for p in previews)


async def test_a_plan_with_quota_offers_both_modes(start_session, server_env, tmp_path: Path):
    AuthStrategy(subscription_tier="pro").save()
    module = tmp_path / "parser.py"
    module.write_text(python_source(40), encoding="utf-8")
    session = await start_session(env=server_env)
    preview = await session.command(PREVIEW, {"uri": module.as_uri(), "task": "review"})
    assert preview["offered_modes"] == ["subscription", "api"]
    assert preview["sends_nothing"] is True
