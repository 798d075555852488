"""Broken framing on the server's stdin, written as raw bytes (no LSP client library):
after each kind of bad header or body, the server either answers the valid requests
that follow or exits with a one-line reason on stderr; never alive and silent."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading

import pytest

from support.lsp_session import eventually
from support.raw_lsp import HANG_GUARD, SERVER, RawServer, frame, lens_request


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


def test_a_client_that_closed_its_end_gets_one_line_and_the_server_stops(server_env):
    """stdout closed by the client: one line on stderr (no traceback per message, none
    per log message), and the server ends at its next message instead of answering
    into the void."""
    proc = subprocess.Popen(
        SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=server_env
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    errors: list[bytes] = []
    drain = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
    drain.start()
    proc.stdout.close()  # the client stops reading
    messages = [
        {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        *(lens_request(i) for i in range(1, 4)),
    ]
    try:
        proc.stdin.write(b"".join(frame(m) for m in messages))
        proc.stdin.flush()
        assert proc.wait(timeout=HANG_GUARD) == 0  # without closing stdin: it stops by itself
    finally:
        proc.kill()
        proc.stdin.close()
    drain.join(HANG_GUARD)
    lines = errors[0].decode(errors="replace").splitlines()
    assert lines == ["attune-lsp: the client closed the connection (stdout); stopping"], lines
