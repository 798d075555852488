"""Broken framing on the server's stdin, written as raw bytes (no LSP client library):
after each kind of bad header or body, the server either answers the valid requests
that follow or exits with a one-line reason on stderr; never alive and silent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from typing import Any

import pytest

from support.lsp_session import eventually

SERVER = [sys.executable, "-m", "attune.lsp"]
HANG_GUARD = 60.0  # seconds; a hang guard, not a speed assertion


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def lens_request(request_id: int) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "textDocument/codeLens",
        "params": {"textDocument": {"uri": "untitled:never-opened"}},
    }


class RawServer:
    """`python -m attune.lsp` on pipes: answers by id, stderr kept line by line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.answers: dict[int, dict[str, Any]] = {}
        self.stderr: list[str] = []
        self._tasks = [asyncio.ensure_future(self._read_stdout()), asyncio.ensure_future(self._read_stderr())]

    @classmethod
    async def start(cls, env: dict[str, str]) -> RawServer:
        proc = await asyncio.create_subprocess_exec(
            *SERVER,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        server = cls(proc)
        await server.write(frame({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"capabilities": {}}}))
        await eventually(lambda: 0 in server.answers, HANG_GUARD, "the initialize answer")
        await server.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        return server

    async def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # it may have exited, as allowed
            self.proc.stdin.write(data)
            await self.proc.stdin.drain()

    async def _read_stdout(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while (line := await out.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            if not line or length is None:
                return
            message = json.loads(await out.readexactly(length))
            if "id" in message and "method" not in message:
                self.answers[message["id"]] = message

    async def _read_stderr(self) -> None:
        err = self.proc.stderr
        assert err is not None
        while line := await err.readline():
            self.stderr.append(line.decode(errors="replace").rstrip("\n"))

    def lines_with(self, text: str) -> list[str]:
        return [line for line in self.stderr if text in line]

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        for task in self._tasks:
            task.cancel()


@pytest.fixture
async def raw_server(server_env):
    servers: list[RawServer] = []

    async def start() -> RawServer:
        servers.append(await RawServer.start(server_env))
        return servers[-1]

    yield start
    for server in servers:
        await server.stop()


def _valid_request_cut_short() -> bytes:
    body = json.dumps(lens_request(90)).encode()
    return b"Content-Length: 10\r\n\r\n" + body


RECOVERED = {
    "a length that is not a number": b"Content-Length: abc\r\n\r\n" + json.dumps(lens_request(90)).encode(),
    "a length too small": _valid_request_cut_short(),
    "a header block without a length": (
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + json.dumps(lens_request(90)).encode()
    ),
    "a body that is not JSON": b"Content-Length: 5\r\n\r\nhello",
    "lines that are not headers": b"hello\r\nworld\r\n\r\n",
    "a long line without a line break": b"x" * 200_000,
}


@pytest.mark.parametrize("bad", list(RECOVERED.values()), ids=list(RECOVERED))
async def test_the_server_resumes_at_the_next_header(raw_server, bad: bytes):
    server = await raw_server()
    await server.write(bad)
    for request_id in range(1, 6):
        await server.write(frame(lens_request(request_id)))
    await eventually(
        lambda: all(i in server.answers for i in range(1, 6)) or server.proc.returncode is not None,
        HANG_GUARD,
        "the five answers",
    )
    assert server.proc.returncode is None, server.stderr
    for request_id in range(1, 6):
        titles = [lens["command"]["title"] for lens in server.answers[request_id]["result"]]
        assert titles == ["Attune: not analysed — the document is not open in the editor and is not a file: URI"]
    assert 90 not in server.answers  # the broken message itself is lost
    await eventually(lambda: server.lines_with("LSP framing: resumed"), HANG_GUARD, "the resumed line")
    assert len(server.lines_with("LSP framing error: ")) == 1, server.stderr


async def test_a_length_over_the_limit_exits_with_the_reason(raw_server):
    server = await raw_server()
    await server.write(b"Content-Length: 99999999999\r\n\r\n")
    for request_id in range(1, 6):
        await server.write(frame(lens_request(request_id)))
    await asyncio.wait_for(server.proc.wait(), HANG_GUARD)
    assert server.proc.returncode == 1
    await eventually(lambda: server.lines_with("exiting"), HANG_GUARD, "the reason on stderr")
    (reason,) = server.lines_with("LSP framing error: ")
    assert "Content-Length 99,999,999,999 is over the 1,073,741,824-byte limit" in reason
    assert reason.endswith("exiting so that the client can restart the server")
