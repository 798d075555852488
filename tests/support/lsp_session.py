"""Helpers for the language-server tests: a real pytest-lsp client session that
records what the server sends on its own (lens refresh requests, breaker status
notifications, log and show messages), its fixtures (``server_env``, ``start_session``:
each test gets its own `python -m attune.lsp` with ATTUNE_HOME in its temp dir),
and the helpers several test modules share."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER = [sys.executable, "-m", "attune.lsp"]


@dataclass
class Received:
    refreshes: int = 0
    breaker: list[dict[str, Any]] = field(default_factory=list)
    usage: list[dict[str, Any]] = field(default_factory=list)
    spend: list[dict[str, Any]] = field(default_factory=list)


@attrs.define
class RawNotification:
    """A custom notification kept as plain JSON: pygls would turn unknown params into
    namedtuples, renaming keys such as "anthropic:cheap"."""

    method: str
    params: Any
    jsonrpc: str = "2.0"


def keep_raw_params(client: LanguageClient, method: str) -> None:
    protocol = client.protocol
    original = protocol.get_message_type
    protocol.get_message_type = lambda m: RawNotification if m == method else original(m)  # type: ignore[method-assign]


def capabilities(refresh: bool = True, work_done_progress: bool = False) -> types.ClientCapabilities:
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            configuration=True, code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=refresh)
        ),
        window=types.WindowClientCapabilities(
            show_document=types.ShowDocumentClientCapabilities(support=True),
            work_done_progress=work_done_progress or None,
        ),
    )


async def eventually(check: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy. The deadline is a hang guard,
    not a speed assertion (speed is measured in benchmarks/)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Session:
    def __init__(self, client: LanguageClient, received: Received):
        self.client = client
        self.received = received

    async def command(self, name: str, *arguments: Any) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(arguments))
        )

    async def lens_commands(self, uri: str) -> list[types.Command]:
        """Each lens's command: the details view, or the client's run command for "Run…"."""
        lenses = await self.client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        commands = []
        for lens in lenses or []:
            assert lens.command is not None
            assert lens.command.command in ("attune.server.showDetails", "attune.runTask")
            assert lens.command.title.strip() and "MISSING" not in lens.command.title
            commands.append(lens.command)
        return commands

    async def lens_titles(self, uri: str) -> list[str]:
        return [command.title for command in await self.lens_commands(uri)]

    def open(self, uri: str, text: str, language_id: str = "python", version: int = 1) -> None:
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=version, text=text)
            )
        )

    def replace(self, uri: str, text: str, version: int) -> None:
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )


@pytest.fixture
def server_env(attune_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["ATTUNE_HOME"] = str(attune_home)
    env.pop("ANTHROPIC_API_KEY", None)
    env.pop("ATTUNE_BREAKER_URL", None)
    return env


@pytest_asyncio.fixture
async def start_session(server_env: dict[str, str]):
    """``await start_session(init_options=..., refresh=True, env=..., command=..., work_done_progress=False)``."""
    clients: list[LanguageClient] = []

    async def start(
        init_options: Any = None,
        refresh: bool = True,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
        work_done_progress: bool = False,
    ) -> Session:
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

        keep_raw_params(client, "attune/usage")

        @client.feature("attune/usage")
        def _usage(ls: LanguageClient, params: Any) -> None:
            received.usage.append(params)

        keep_raw_params(client, "attune/apiSpend")

        @client.feature("attune/apiSpend")
        def _spend(ls: LanguageClient, params: Any) -> None:
            received.spend.append(params)

        await client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities(refresh, work_done_progress), initialization_options=init_options
            )
        )
        return Session(client, received)

    yield start
    for client in clients:
        try:
            server = getattr(client, "_server", None)
            if server is not None and server.returncode is None:  # a test may have shut it down
                await asyncio.wait_for(client.shutdown_session(), 10)
        finally:
            await client.stop()


def python_source(code_lines: int) -> str:
    """``code_lines`` lines of code plus a comment, a docstring and blanks that must not count."""
    body = "\n".join(f"value_{i} = {i}  # trailing comment" for i in range(code_lines))
    return f'"""Module docstring."""\n\n# a comment line\n\n{body}\n'


def trip_breaker(env: dict[str, str], provider: str = "anthropic", tier: str = "cheap", times: int = 5) -> None:
    """Another process records failures on the shared store."""
    code = (
        "from attune.models import get_circuit_breaker\n"
        f"b = get_circuit_breaker()\nfor _ in range({times}): b.record_failure({provider!r}, {tier!r})\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
