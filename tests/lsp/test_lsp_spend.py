"""``attune/apiSpend`` through a real client: the user's API spend today from
telemetry, sent at start and again after new calls are recorded."""

from __future__ import annotations

from datetime import datetime, timedelta

from attune.models import LLMCallRecord
from attune.models.telemetry.store import get_telemetry_store
from support.lsp_session import eventually


def spent(user: str, cost: float, *, success: bool = True, ago: timedelta = timedelta(minutes=1)) -> LLMCallRecord:
    return LLMCallRecord(
        "docs", "write", "summarize", "anthropic", "cheap", "claude-haiku-4-5", success,
        error_type=None if success else "server", cost=cost, user=user,
        timestamp=datetime.now().astimezone() - ago,
    )  # fmt: skip


async def test_todays_api_spend_is_the_users_own_and_follows_new_calls(start_session, server_env):
    now = datetime.now().astimezone()
    since_midnight = now - now.replace(hour=0, minute=0, second=0, microsecond=0)
    store = get_telemetry_store()  # the server's ATTUNE_HOME is the test's
    store.record_calls(
        [
            spent("ada@team.example", 0.25),
            spent("ada@team.example", 0.0, success=False),
            spent("bob@team.example", 9.0),  # someone else's
            spent("ada@team.example", 5.0, ago=since_midnight + timedelta(minutes=5)),  # yesterday
        ]
    )
    session = await start_session(env={**server_env, "ATTUNE_USER": "ada@team.example"})

    first = (await eventually(lambda: session.received.spend, what="the first attune/apiSpend"))[0]
    assert first["user"] == "ada@team.example" and first["day"] == now.date().isoformat()
    assert (first["calls"], first["failures"], first["cost"]) == (2, 1, 0.25)
    assert first["store"].endswith("telemetry.db")

    store.record_call(spent("ada@team.example", 0.5))
    await eventually(lambda: len(session.received.spend) >= 2, timeout=20, what="a second attune/apiSpend")
    assert (session.received.spend[1]["calls"], session.received.spend[1]["cost"]) == (3, 0.75)
