"""The `attune` command line: `attune auth …` lives here, with ``main``.

Other command groups live in their own ``*_cli.py`` modules, each exposing
``register(subparsers)``; ``main`` wires them. Handlers take the parsed args and
return an exit code; they import heavy modules inside, so `attune auth recommend`
starts fast (no anthropic, no pygls).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

from .cli_common import EXIT_OK, EXIT_RUNTIME, CliError

# Command groups defined outside this file, in the order `attune --help` lists them.
_COMMAND_MODULES = ("scan_cli", "breaker_cli", "routing_cli")


def _register_auth(subparsers: argparse._SubParsersAction) -> None:
    auth = subparsers.add_parser("auth", help="set up, inspect, reset or restore the auth strategy")
    auth_sub = auth.add_subparsers(dest="auth_command", metavar="COMMAND", required=True)
    del auth_sub  # filled in by the auth strategy work


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attune",
        description="Which way to run each source file through Claude, what it costs, "
        "and the state of your LLM providers' circuit breakers.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _register_auth(subparsers)
    for name in _COMMAND_MODULES:
        if importlib.util.find_spec(f"{__package__}.{name}") is None:
            continue  # TEMPORARY while command groups are being built
        importlib.import_module(f"{__package__}.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors exit 2 here
    try:
        return int(args.func(args) or EXIT_OK)
    except CliError as exc:
        print(f"attune: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("attune: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        print(f"attune: {exc}", file=sys.stderr)
        return EXIT_RUNTIME


if __name__ == "__main__":
    sys.exit(main())
