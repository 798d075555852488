"""The `attune` command: one parser with a group per concern, and the one place
where errors become exit codes and one-line messages.

Exit codes: 0 success, 1 runtime error, 2 usage error (argparse's own code).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from attune.cli import auth, breaker, calibrate, completion, routing, runs, scan, spend, usage
from attune.cli import run as run_cmd
from attune.cli.common import (
    EXIT_OK,
    EXIT_RUNTIME,
    CliError,
    VersionAction,
    add_logging_options,
    add_telemetry_option,
    apply_telemetry_option,
    configure_logging,
)
from attune.models.errors import AttuneError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attune",
        description="Which way to run each source file through Claude (subscription or API), "
        "what it costs, and the state of your LLM providers' circuit breakers.",
    )
    parser.add_argument("--version", action=VersionAction, help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_telemetry_option(parser)
    for group in (auth, scan, run_cmd, runs, usage, spend, calibrate, breaker, routing, completion):  # `--help` order
        group.register(subparsers)
    add_logging_options(parser, top=True)  # on every subcommand too
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # usage errors exit 2 here
    configure_logging(args.verbose, args.log_level)
    try:
        apply_telemetry_option(args)
        return int(args.func(args) or EXIT_OK)
    except CliError as exc:
        print(f"attune: {exc}", file=sys.stderr)
        return exc.exit_code
    except AttuneError as exc:
        print(f"attune: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        print("attune: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        print(f"attune: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    except Exception as exc:  # a bug: say so plainly, traceback only on request
        print(f"attune: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("ATTUNE_DEBUG"):
            traceback.print_exc()
        else:
            print("attune: set ATTUNE_DEBUG=1 to see the traceback", file=sys.stderr)
        return EXIT_RUNTIME


def run() -> None:
    """The `attune` console script: ``main``, then a hard exit.

    Everything the CLI writes is committed or flushed by the time ``main``
    returns (atomic files, SQLite commits, joined worker pools), or here: call
    records waiting for a team's PostgreSQL are sent first (up to 2 s; the rest
    stays in the outbox). So interpreter teardown (tearing down pydantic's
    modules, ~20-30 ms) is skipped, as mypy does. Third-party pydantic plugins are off: they would
    instrument our own strategy model and cost ~20 ms of entry-point scanning
    on every start. Code importing ``attune.models`` is not affected."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    code = main()
    outbox = sys.modules.get("attune.models.telemetry.outbox")
    if outbox is not None:  # the hard exit skips its atexit handler
        outbox.close_all()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # a reader that went away: nothing left to tell it
    if "logging" in sys.modules:
        sys.modules["logging"].shutdown()
    os._exit(code)
