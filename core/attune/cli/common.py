"""What every `attune` subcommand shares: exit codes, errors, JSON output, terminals.

Exit codes: 0 success, 1 runtime error, 2 usage error (argparse's own code).
A handler raises ``CliError`` (or ``UsageError``) with a message for the user;
``main`` prints it to stderr and exits with its code. No tracebacks for users.
"""

from __future__ import annotations

import json
import sys
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


def print_json(data: Any) -> None:
    # one write: json.dump to a stream writes every token separately
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


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
