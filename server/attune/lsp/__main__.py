"""Entry point for ``attune-lsp`` and ``python -m attune.lsp`` (LSP over stdio)."""

from __future__ import annotations

import argparse
import logging
import sys


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
    server.start_io()
    return server.exit_status


if __name__ == "__main__":
    sys.exit(main())
