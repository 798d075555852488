"""Entry point for ``attune-lsp`` and ``python -m attune.lsp`` (LSP over stdio)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import BinaryIO

# Set by the editor for a server it spawned before it knew the stored API key: the
# first line on stdin is that key, or empty, and the LSP stream follows. It is read
# after the imports, which it overlaps; never logged.
KEY_ON_STDIN_ENV = "ATTUNE_LSP_KEY_ON_STDIN"
KEY_ENV = "ANTHROPIC_API_KEY"
KEY_LINE_LIMIT = 4096


def read_api_key(stdin: BinaryIO) -> None:
    """Reads the key line; a non-empty key becomes ANTHROPIC_API_KEY for this process."""
    line = stdin.readline(KEY_LINE_LIMIT)
    if not line.endswith(b"\n"):  # before the LSP stream: stderr, which the editor logs
        sys.stderr.write("attune-lsp: the API key line from the editor was cut short or too long; ignored\n")
        return
    key = line.strip().decode("utf-8", "replace")
    if key:
        os.environ[KEY_ENV] = key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="attune-lsp", description="The Attune language server (LSP over stdio).")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    if args.version:
        from attune.models.version import attune_version

        print(f"{parser.prog} {attune_version()}")
        return 0

    from .attrs_cache import attrs_method_cache

    with attrs_method_cache():  # lsprotocol's ~550 attrs classes: their methods' byte-code
        from . import commands  # noqa: F401  (registers the attune.server.* commands)
        from .server import server
    from .log_handler import configure_logging

    configure_logging(server, getattr(logging, args.log_level))
    if os.environ.pop(KEY_ON_STDIN_ENV, None) == "1":
        read_api_key(sys.stdin.buffer)
    server.start_io()
    return server.exit_status


if __name__ == "__main__":
    sys.exit(main())
