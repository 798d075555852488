"""The API key on stdin (ATTUNE_LSP_KEY_ON_STDIN=1, the editor's head start): the
first line is the key, the LSP stream follows. A key makes the "Run…" lens appear
as one in the environment does; an empty line gives none; a line too long is
reported on stderr and the stream resumes at the next header. The key is never
echoed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support.lsp_session import eventually
from support.raw_lsp import HANG_GUARD, RawServer, frame

KEY = "sk-ant-api03-head-start-test-key"


@pytest.fixture
def no_claude_env(server_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    (tmp_path / "empty-bin").mkdir()  # no `claude` on PATH: only the key can make a task runnable
    return {**server_env, "PATH": str(tmp_path / "empty-bin"), "ATTUNE_LSP_KEY_ON_STDIN": "1"}


async def lens_titles(server: RawServer, module: Path, request_id: int) -> list[str]:
    uri = module.as_uri()
    document = {"uri": uri, "languageId": "python", "version": 1, "text": module.read_text(encoding="utf-8")}
    opened = {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": document}}
    await server.write(frame(opened))
    request: dict[str, Any] = {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "textDocument/codeLens",
        "params": {"textDocument": {"uri": uri}},
    }
    await server.write(frame(request))
    await eventually(lambda: request_id in server.answers, HANG_GUARD, "the lenses")
    return [lens["command"]["title"] for lens in server.answers[request_id]["result"]]


@pytest.fixture
async def started(no_claude_env: dict[str, str]):
    servers: list[RawServer] = []

    async def start(prelude: bytes) -> RawServer:
        servers.append(await RawServer.start(no_claude_env, prelude))
        return servers[-1]

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
def module(tmp_path: Path) -> Path:
    path = tmp_path / "module.py"
    path.write_text("".join(f"value_{i} = {i}\n" for i in range(40)), encoding="utf-8")
    return path


async def test_a_key_on_the_first_line_makes_tasks_runnable(started, module: Path) -> None:
    server = await started(f"{KEY}\n".encode())
    assert "Run…" in await lens_titles(server, module, 1)
    await server.stop()
    assert not server.lines_with(KEY), "the key is never echoed"
    assert json.dumps(server.answers).find(KEY) == -1


async def test_an_empty_first_line_means_no_key(started, module: Path) -> None:
    server = await started(b"\n")
    titles = await lens_titles(server, module, 1)
    assert titles and "Run…" not in titles


async def test_a_first_line_too_long_is_reported_and_the_stream_resumes(started, module: Path) -> None:
    server = await started(b"x" * 5000 + b"\n")
    titles = await lens_titles(server, module, 1)
    assert titles and "Run…" not in titles
    await eventually(lambda: server.lines_with("cut short or too long"), HANG_GUARD, "the one-line report")
