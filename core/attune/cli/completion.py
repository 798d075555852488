"""`attune completion {bash,zsh,fish}`: print the shell completion script.

The scripts are generated from the parser when the package is built
(``scripts/gen_completions.py``: shtab for bash and zsh, a walk of the parser for
fish) and shipped in ``completions/``; this command only reads one, so completion
costs nothing at run time and shtab is not a run-time dependency.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from attune.cli.common import EXIT_OK, CliError

SHELLS = ("bash", "zsh", "fish")
COMPLETIONS_DIR = Path(__file__).with_name("completions")

_HOW_TO_INSTALL = """\
Install (one of):
  bash: attune completion bash > ~/.local/share/bash-completion/completions/attune
  zsh:  attune completion zsh > "${fpath[1]}/_attune"   (a folder in $fpath; then restart zsh)
  fish: attune completion fish > ~/.config/fish/completions/attune.fish"""


def completion_file(shell: str) -> Path:
    return COMPLETIONS_DIR / f"attune.{shell}"


def cmd_completion(args: argparse.Namespace) -> int:
    path = completion_file(args.shell)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{path} is missing: this installation of attune has no {args.shell} completion") from None
    print(text, end="")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    completion = subparsers.add_parser(
        "completion",
        help="print the shell completion script for bash, zsh or fish",
        description="Print the completion script of SHELL on stdout.",
        epilog=_HOW_TO_INSTALL,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    completion.add_argument("shell", metavar="SHELL", choices=SHELLS, help=", ".join(SHELLS))
    completion.set_defaults(func=cmd_completion)
