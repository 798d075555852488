"""The console scripts `attune` and `attune-lsp`, from outside the ``attune`` package.

Our ``attune.models``, ``attune.cli`` and ``attune.lsp`` are portions of a namespace
package ``attune``. A regular package of the same name anywhere on ``sys.path`` (the
PyPI package attune-ai ships one) wins over every namespace portion, and then none of
our modules can be imported. This module lives outside ``attune`` so it still loads
then: it tries the real entry point and, only when that import fails, says in one
line what hides it, where it is, and what to do.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

EXIT_RUNTIME = 1
_OURS = "attune-companion"


def cli() -> None:
    """The `attune` command (``attune.cli.main:run``)."""
    try:
        from attune.cli.main import run
    except ModuleNotFoundError as exc:
        _hidden("attune", exc)
    run()


def lsp() -> int:
    """The `attune-lsp` command (``attune.lsp.__main__:main``)."""
    try:
        from attune.lsp.__main__ import main
    except ModuleNotFoundError as exc:
        _hidden("attune-lsp", exc)
    return main()


def _hidden(prog: str, exc: ModuleNotFoundError) -> NoReturn:
    """Exit 1 with one line naming the package that hides ours; re-raise any other
    missing module (a missing dependency has its own clear message)."""
    if not (exc.name or "").startswith("attune."):
        raise exc
    found = getattr(sys.modules.get("attune"), "__file__", None)
    if not found:  # our namespace package imported, so this is a broken install, not a foreign one
        raise exc
    owner = _owner(found)
    if owner is None:
        what, fix = found, "take it off the Python path"
    else:
        name, version = owner
        what, fix = f"{name} {version}, {found}", f"uninstall it (pip uninstall {name})"
    print(
        f"{prog}: another package named 'attune' ({what}) hides Attune Companion's modules; "
        f"{fix} or install Attune in its own virtual environment",
        file=sys.stderr,
    )
    sys.exit(EXIT_RUNTIME)


def _owner(init_file: str) -> tuple[str, str] | None:
    """(distribution name, version) of the installed distribution that owns ``init_file``."""
    from importlib import metadata

    def canonical(name: str) -> str:
        return name.lower().replace("_", "-").replace(".", "-")

    try:
        names = metadata.packages_distributions().get("attune", [])
    except Exception:  # a malformed installed distribution: say what we can without it
        return None
    target = os.path.realpath(init_file)
    others = [n for n in dict.fromkeys(names) if canonical(n) != _OURS]
    for name in others:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or []:
            if file.name == "__init__.py" and os.path.realpath(str(dist.locate_file(file))) == target:
                return dist.metadata["Name"] or name, dist.version
    return None
