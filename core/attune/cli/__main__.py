"""``python -m attune.cli``: the `attune` command."""

from attune.cli.main import run

run()
