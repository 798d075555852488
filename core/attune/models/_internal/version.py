"""The one place Attune's version comes from: the installed distribution's metadata,
else ``FALLBACK_VERSION`` (a source tree run without installing). A test keeps the
constant equal to pyproject.toml's version.

``importlib.metadata`` costs ~20 ms to import, so callers ask only when they need the
answer (``attune --version``, ``attune-lsp --version``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

DISTRIBUTION = "attune-companion"
FALLBACK_VERSION = "0.1.0"


def attune_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return FALLBACK_VERSION


class VersionAction(argparse.Action):
    """``--version`` for ``attune`` and ``attune-lsp``: prints ``<prog> <version>`` and
    exits 0. Unlike argparse's own it looks the version up only when asked."""

    def __init__(
        self,
        option_strings: Sequence[str],
        dest: str = argparse.SUPPRESS,
        default: Any = argparse.SUPPRESS,
        help: str | None = "print the version and exit",
    ) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        sys.stdout.write(f"{parser.prog} {attune_version()}\n")
        parser.exit()
