"""A real LSP client (pytest-lsp) talking to a real `python -m attune.lsp` process.

Each test gets its own server with ATTUNE_HOME in the test's temp dir.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from lsp_session import SERVER, Received, Session, capabilities, keep_raw_params


@pytest.fixture
def server_env(attune_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["ATTUNE_HOME"] = str(attune_home)
    env.pop("ANTHROPIC_API_KEY", None)
    env.pop("ATTUNE_BREAKER_URL", None)
    return env


@pytest_asyncio.fixture
async def start_session(server_env: dict[str, str]):
    """``await start_session(init_options=..., refresh=True, env=..., command=...)``."""
    clients: list[LanguageClient] = []

    async def start(init_options: Any = None, refresh: bool = True, env: dict[str, str] | None = None,
                    command: list[str] | None = None) -> Session:
        config = ClientServerConfig(server_command=command or SERVER, server_env=env or server_env)
        client = await config.start()
        clients.append(client)
        received = Received()

        @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
        def _refresh(ls: LanguageClient, params: Any) -> None:
            received.refreshes += 1

        keep_raw_params(client, "attune/breakerStatus")

        @client.feature("attune/breakerStatus")
        def _breaker(ls: LanguageClient, params: Any) -> None:
            received.breaker.append(params)

        await client.initialize_session(types.InitializeParams(
            capabilities=capabilities(refresh), initialization_options=init_options))
        return Session(client, received)

    yield start
    for client in clients:
        try:
            server = getattr(client, "_server", None)
            if server is not None and server.returncode is None:  # a test may have shut it down
                await asyncio.wait_for(client.shutdown_session(), 10)
        finally:
            await client.stop()
