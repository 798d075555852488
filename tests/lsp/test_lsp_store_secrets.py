"""The language server with a Redis breaker store whose URL carries a password: the
store's warnings reach the editor (window/logMessage) and stderr without it."""

from __future__ import annotations

import pytest

from support.lsp_session import eventually
from support.redis_server import free_port

SECRET = "S3cr3t"


async def test_an_unreachable_store_is_reported_without_its_password(
    start_session, server_env, capfd: pytest.CaptureFixture[str]
) -> None:
    env = {**server_env, "ATTUNE_BREAKER_URL": f"redis://user:{SECRET}@127.0.0.1:{free_port()}/0?password={SECRET}"}
    session = await start_session(env=env)
    await eventually(lambda: session.received.breaker, what="the first attune/breakerStatus")
    await session.command("attune.server.breakerStatus")

    def store_warnings() -> list[str]:
        return [m.message for m in session.client.log_messages if "unavailable" in m.message]

    warnings = await eventually(store_warnings, what="the store's warning in window/logMessage")
    assert "redis://***@127.0.0.1:" in warnings[0] and "password=***" in warnings[0]
    assert all(SECRET not in m.message for m in session.client.log_messages)
    await session.client.shutdown_session()
    stderr = capfd.readouterr().err
    assert "unavailable" in stderr and SECRET not in stderr
