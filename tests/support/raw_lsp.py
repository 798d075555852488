"""`python -m attune.lsp` on raw pipes (no LSP client library), for tests of what a
client library would never send: broken framing, a line before the LSP stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from typing import Any

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
    async def start(cls, env: dict[str, str], prelude: bytes = b"") -> RawServer:
        """Starts it, writes ``prelude`` (bytes before the LSP stream), then initializes it."""
        proc = await asyncio.create_subprocess_exec(
            *SERVER,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        server = cls(proc)
        await server.write(prelude)
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
