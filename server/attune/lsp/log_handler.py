"""Logs to stderr and to the client's ``window/logMessage`` — never to stdout,
which carries the LSP stream."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from lsprotocol import types

_LEVELS = (
    (logging.ERROR, types.MessageType.Error),
    (logging.WARNING, types.MessageType.Warning),
    (logging.INFO, types.MessageType.Info),
)


class ClientLogHandler(logging.Handler):
    """Forwards records to the client; records from worker threads hop to the loop."""

    def __init__(self, server: Any) -> None:
        super().__init__(logging.INFO)
        self._server = server
        self._loop: asyncio.AbstractEventLoop | None = None

    def _send(self, kind: types.MessageType, message: str) -> None:
        if self._server.protocol.writer is None:  # not connected yet, or already gone
            return
        self._server.window_log_message(types.LogMessageParams(type=kind, message=message))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            kind = next((k for level, k in _LEVELS if record.levelno >= level), types.MessageType.Log)
            try:
                self._loop = asyncio.get_running_loop()
                self._send(kind, message)
            except RuntimeError:  # a worker thread
                if self._loop is not None and not self._loop.is_closed():
                    self._loop.call_soon_threadsafe(self._send, kind, message)
        except Exception:
            self.handleError(record)


def configure_logging(server: Any, level: int = logging.INFO) -> None:
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(stderr)
    root.setLevel(logging.WARNING)  # pygls is chatty at INFO
    attune = logging.getLogger("attune")
    attune.setLevel(level)
    client = ClientLogHandler(server)
    client.setFormatter(logging.Formatter("%(message)s"))
    attune.addHandler(client)
