"""Helpers for the language-server tests: a real pytest-lsp client session that
records what the server sends on its own (lens refresh requests, breaker status
notifications, log and show messages)."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import attrs
from lsprotocol import types
from pytest_lsp import LanguageClient

SERVER = [sys.executable, "-m", "attune.lsp"]


@dataclass
class Received:
    refreshes: int = 0
    breaker: list[dict[str, Any]] = field(default_factory=list)


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


def capabilities(refresh: bool = True) -> types.ClientCapabilities:
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            configuration=True,
            code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=refresh)),
        window=types.WindowClientCapabilities(show_document=types.ShowDocumentClientCapabilities(support=True)),
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
            types.ExecuteCommandParams(command=name, arguments=list(arguments)))

    async def lens_titles(self, uri: str) -> list[str]:
        lenses = await self.client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
        titles = []
        for lens in lenses or []:
            assert lens.command is not None and lens.command.command == "attune.server.showDetails"
            assert lens.command.title.strip() and "MISSING" not in lens.command.title
            titles.append(lens.command.title)
        return titles

    def open(self, uri: str, text: str, language_id: str = "python", version: int = 1) -> None:
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=version, text=text)))

    def replace(self, uri: str, text: str, version: int) -> None:
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
