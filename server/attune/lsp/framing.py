"""Reading LSP messages from stdin: the base protocol's ``Content-Length`` framing,
resuming at the next header after broken input.

pygls's own reader only recognises a header line that is exactly
``Content-Length: <digits>\\r\\n``. After a header block without one (a missing or
non-numeric length) or a body cut short by a length too small, the rest of the
message and the next header arrive on one line, which never matches again: the
server stays alive and answers nothing. This reader instead:

- skips a header block without a valid ``Content-Length``, a body that is not JSON,
  and any line that is not a header, logging one line, then resumes at the next line
  that ends with a ``Content-Length`` header (JSON cannot contain a raw line break
  inside a string, so a body never ends a line with one);
- exits with one logged line when a ``Content-Length`` is over ``MAX_BODY_BYTES``
  (no body is that large; waiting for it would swallow every later message), so the
  client sees the server stop and can restart it.

A ``Content-Length`` larger than the body that follows (but under the limit) cannot
be told from a slow client: the reader waits for the bytes, as any LSP reader must.

The way out, stdout, gets ``ClientWriter``: once the client has closed its end,
nothing can reach it, so it says so in one line on stderr, drops what follows (pygls
would log a traceback for every message, and the log handler another for every
``window/logMessage``) and stops the read loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

from pygls.exceptions import JsonRpcException
from pygls.protocol import JsonRPCProtocol

logger = logging.getLogger(__name__)

LINE_LIMIT = 64 * 1024  # a header line longer than this is not a header
MAX_BODY_BYTES = 1 << 30  # 1 GiB
_TAIL = 64  # enough of a long line's end to hold a Content-Length header

_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*(\d{1,20})[ \t]*\r?\n\Z", re.IGNORECASE)
_HEADER = re.compile(rb"([A-Za-z0-9-]+)[ \t]*:(.*)\r?\n\Z", re.DOTALL)
_BLANK = (b"\r\n", b"\n")


class ClientWriter:
    """pygls's writer over stdout (``write``, ``close``), which stops at a closed pipe."""

    def __init__(self, stdout: BinaryIO, stop_event: threading.Event) -> None:
        self._stdout = stdout
        self._stop_event = stop_event
        self.closed = False

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self._stdout.write(data)
            self._stdout.flush()
        except (BrokenPipeError, ConnectionResetError, ValueError):  # ValueError: stdout closed here
            self.closed = True
            self._stop_event.set()
            # straight to stderr: the logging handlers would try the client again
            sys.stderr.write("attune-lsp: the client closed the connection (stdout); stopping\n")

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stdout.close()


class StdinReader:
    """Blocking reads of stdin in the server's thread pool, a line at most ``LINE_LIMIT`` long."""

    def __init__(self, stdin: BinaryIO, executor: ThreadPoolExecutor) -> None:
        self._stdin = stdin
        self._executor = executor

    async def readline(self) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._stdin.readline, LINE_LIMIT)

    async def read(self, n: int) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._stdin.read, n)


class _Resync:
    """Skipping input after a framing error, up to a line that ends with a Content-Length header."""

    def __init__(self, problem: str) -> None:
        logger.warning("LSP framing error: %s; skipping input up to the next Content-Length header", problem)
        self.skipped = 0
        self._tail = b""

    def feed(self, line: bytes) -> int | None:
        """The length of the next message once ``line`` completes its header, else None."""
        text = self._tail + line
        if not line.endswith(b"\n"):  # a piece of a long line: keep its end only
            self.skipped += len(line)
            self._tail = text[-_TAIL:]
            return None
        self._tail = b""
        found = _LENGTH.search(text)
        if found is None:
            self.skipped += len(line)
            return None
        self.skipped += len(line) - min(len(line), found.end() - found.start())
        logger.warning("LSP framing: resumed at a Content-Length header after skipping %d bytes", self.skipped)
        return int(found.group(1))


async def read_messages(
    stop_event: threading.Event,
    reader: StdinReader,
    protocol: JsonRPCProtocol,
    error_handler: Callable[[Exception, type[JsonRpcException]], Any],
) -> str | None:
    """Hand each message to ``protocol`` until the input ends (None) or cannot be
    followed any more (the reason, already logged)."""
    length: int | None = None
    problem: str | None = None  # what is wrong with the header block being read
    in_block = False  # a header line was read since the last message
    resync: _Resync | None = None
    while not stop_event.is_set():
        line = await reader.readline()
        if not line:
            return None
        if resync is None and line not in _BLANK:
            exact = _LENGTH.match(line)
            if exact:
                length, in_block = int(exact.group(1)), True
                continue
            # a header line, unless it ends with a Content-Length header glued to something
            header = None if _LENGTH.search(line) else _HEADER.match(line)
            if header:
                in_block = True
                if header.group(1).lower() == b"content-length":
                    value = header.group(2).strip().decode("latin-1")
                    length, problem = None, f"Content-Length {value[:40]!r} is not a valid length"
                continue  # another header (Content-Type): nothing to do
            resync = _Resync("a line that is not a header where a header was due")
            length, problem, in_block = None, None, False
        if resync is not None:
            length = resync.feed(line)
            if length is not None:
                resync, in_block = None, True
            continue
        # a blank line: the end of a header block
        if not in_block:
            continue  # a stray blank line between messages
        if length is None:
            resync = _Resync(f"a header block without a valid Content-Length ({problem or 'none given'})")
            problem, in_block = None, False
            continue
        size, length, in_block = length, None, False
        if size > MAX_BODY_BYTES:
            reason = (
                f"LSP framing error: Content-Length {size:,} is over the {MAX_BODY_BYTES:,}-byte limit; "
                "exiting so that the client can restart the server"
            )
            logger.error("%s", reason)
            return reason
        body = await reader.read(size)
        if len(body) < size:
            logger.warning("LSP input ended inside a message (%d of %d bytes)", len(body), size)
            return None
        try:
            message = json.loads(body, object_hook=protocol.structure_message)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            resync = _Resync(f"a body of Content-Length {size:,} that is not JSON ({exc})")
            continue
        except Exception as exc:  # JSON that does not fit its method's types
            logger.exception("Unable to handle message")
            error_handler(exc, JsonRpcException)
            continue
        try:
            protocol.handle_message(message)
        except Exception as exc:
            logger.exception("Unable to handle message")
            error_handler(exc, JsonRpcException)
    return None
