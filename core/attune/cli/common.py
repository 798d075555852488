"""What every `attune` subcommand shares: exit codes, errors, JSON output, logging
options, terminals.

Exit codes: 0 success, 1 runtime error, 2 usage error (argparse's own code).
A handler raises ``CliError`` (or ``UsageError``) with a message for the user;
``main`` prints it to stderr and exits with its code. No tracebacks for users.

Every ``--json`` output is printed by ``print_json``: one object whose first key is
``"schema_version"`` (``JSON_SCHEMA_VERSION``), raised when a shape changes
incompatibly.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from attune.models.errors import AttuneError

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2


class CliError(AttuneError):
    """A runtime failure to report to the user as one clear message (exit 1)."""

    exit_code = EXIT_RUNTIME


class UsageError(CliError):
    """The command line asks for something impossible (exit 2)."""

    exit_code = EXIT_USAGE


JSON_SCHEMA_VERSION = 1


def print_json(data: Mapping[str, Any], *, rows_key: str | None = None) -> None:
    """Print a ``--json`` document: ``data`` after ``"schema_version": 1``.

    Only objects: a list could not carry the version (wrap it under a key). With
    ``rows_key`` that key's list is printed one row per line (greppable, and
    json.dumps without indent is the C encoder: ~10x faster for thousands of rows)."""
    if not isinstance(data, Mapping):
        raise TypeError(f"--json output must be an object, not {type(data).__name__}")
    document = {"schema_version": JSON_SCHEMA_VERSION, **data}
    if rows_key is None:
        # one write: json.dump to a stream writes every token separately
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
        return
    parts = []
    for key, value in document.items():
        if key == rows_key and value:
            rows = ",\n".join("    " + json.dumps(row, default=str) for row in value)
            text = f"[\n{rows}\n  ]"
        else:
            text = json.dumps(value, indent=2, default=str).replace("\n", "\n  ")
        parts.append(f"  {json.dumps(key)}: {text}")
    sys.stdout.write("{\n" + ",\n".join(parts) + "\n}\n")


class VersionAction(argparse.Action):
    """``attune --version``: prints ``attune <version>`` and exits 0. Unlike argparse's
    own it looks the version up only when asked (importlib.metadata costs ~15 ms)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from attune.models.version import attune_version

        sys.stdout.write(f"{parser.prog} {attune_version()}\n")
        parser.exit()


# ---- --task: which task a command prices or runs ----------------------------------

# attune.models.pricing.pipeline.task_names(), spelled out so that building the parser
# loads no pricing module (a test keeps the two equal)
TASK_CHOICES = ("document", "review", "explain", "tests")


def add_task_option(parser: argparse.ArgumentParser, *, help: str) -> None:
    """``--task T`` (one of TASK_CHOICES; default ``document``)."""
    parser.add_argument(
        "--task",
        choices=TASK_CHOICES,
        default=TASK_CHOICES[0],
        metavar="TASK",
        help=f"{help}: {', '.join(TASK_CHOICES)} (default {TASK_CHOICES[0]})",
    )


# ---- logging options: on `attune` itself and on every subcommand --------------------

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def add_logging_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``-v/--verbose`` and ``--log-level`` on ``parser`` and every subcommand below it.

    Only ``attune`` itself has defaults: a subcommand's default would overwrite what
    was given before the subcommand (argparse copies the subparser's namespace)."""
    unset = argparse.SUPPRESS
    group = parser.add_argument_group("logging (to stderr)")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0 if top else unset,
        help="log what attune does: -v info, -vv debug",
    )
    group.add_argument(
        "--log-level",
        metavar="LEVEL",
        type=str.upper,  # --log-level debug works too
        choices=LOG_LEVELS,
        default=None if top else unset,
        help=f"log at this level ({', '.join(LOG_LEVELS)}); overrides -v. Default: warnings only",
    )
    seen: set[int] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    add_logging_options(sub, top=False)


def add_telemetry_option(parser: argparse.ArgumentParser) -> None:
    """``--telemetry URL``: where call records go, for this command (it sets
    ATTUNE_TELEMETRY_URL). SUPPRESS: a subcommand's default must not undo the value
    given before the subcommand's name."""
    parser.add_argument(
        "--telemetry",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="telemetry store: a SQLite path, sqlite:///path or postgresql://user@host/db "
        "(default: ATTUNE_TELEMETRY_URL, else this machine's file)",
    )


def apply_telemetry_option(args: argparse.Namespace) -> None:
    url = getattr(args, "telemetry", None)
    if url is not None:
        import os

        from attune.models.telemetry.urls import URL_ENV, sqlite_path

        sqlite_path(url)  # an unknown scheme is refused here, naming the option's value
        os.environ[URL_ENV] = url


def configure_logging(verbose: int, log_level: str | None) -> None:
    """Attune's loggers at the level asked for, on stderr; other libraries' at WARNING
    (or quieter, if asked). Asked for nothing: logging stays unconfigured, and Python
    prints warnings and errors as they are."""
    level = log_level or ("DEBUG" if verbose >= 2 else "INFO" if verbose == 1 else None)
    if level is None:
        return
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    numeric = logging.getLevelName(level)
    root.setLevel(max(numeric, logging.WARNING))
    logging.getLogger("attune").setLevel(numeric)


def replace_file(out: Path, text: str) -> Path | None:
    """Write ``text`` to ``out`` atomically (temp file, fsync, rename); an existing file
    is copied to ``<name>.bak-<UTC time>`` first, never over an earlier copy. Returns
    that copy (None when there was no file)."""
    import os
    import shutil
    import tempfile
    from datetime import UTC, datetime

    backup = None
    if out.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        backup = out.with_name(f"{out.name}.bak-{stamp}")
        n = 1
        while backup.exists():
            backup = out.with_name(f"{out.name}.bak-{stamp}-{n}")
            n += 1
        shutil.copyfile(out, backup)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return backup


def warn_calibration(problem: str | None) -> None:
    """One line on stderr when the calibration file is unusable: the estimates that
    follow use the defaults, and the file is left as it is."""
    if problem:
        print(f"attune: warning: {problem} Estimates use the defaults until it is fixed.", file=sys.stderr)


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed or detached stdin
        return False


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (ValueError, OSError):
        return False
