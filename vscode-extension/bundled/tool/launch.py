"""Starts the Attune language server from the libraries bundled with the extension.

bundled/libs goes first on sys.path, so the copies shipped in the .vsix win over
whatever the user's interpreter has installed (the vscode-python-tools-extension-
template pattern). Without bundled/libs (a development checkout) the installed
attune-companion runs instead. stdout belongs to the LSP stream: print nothing.

``attune`` is a namespace package: attune-companion ships ``attune/models`` and
``attune/lsp`` but no ``attune/__init__.py``. A *regular* package named ``attune``
anywhere on sys.path (the PyPI package attune-ai ships ``attune/__init__.py``)
wins over every namespace portion, even the bundled one at the front of sys.path,
and ``import attune.lsp`` fails. So when ``attune`` resolves to anything but a
namespace package, ``sys.modules["attune"]`` is bound to a namespace module over
the portions Python would have used without it (bundled/libs first); the other
package is never imported, and one line on stderr says where it is.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import runpy
import sys

LIBS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "libs")


def add_bundled_libs(libs: str = LIBS) -> bool:
    """Puts bundled/libs first on sys.path; False when the installed server must run."""
    # The extension sets ATTUNE_LSP_USE_INSTALLED when the bundle has no binaries for
    # this Python version and the interpreter has attune-companion installed itself.
    if os.path.isdir(libs) and os.environ.get("ATTUNE_LSP_USE_INSTALLED") != "1":
        sys.path.insert(0, libs)
        return True
    return False


def _namespace_portions() -> list[str]:
    """The ``attune`` namespace portions on sys.path, in order (regular packages skipped)."""
    portions: list[str] = []
    for entry in sys.path:
        try:
            spec = importlib.machinery.PathFinder.find_spec("attune", [entry])
        except Exception:  # an unreadable entry: Python's own import would skip it too
            continue
        if spec is not None and spec.origin is None and spec.submodule_search_locations:
            portions.extend(p for p in spec.submodule_search_locations if p not in portions)
    return portions


def _owner(location: str) -> str:
    """'attune-ai 1.2.3': the distribution next to ``location`` that installed it, or ''."""
    try:
        from importlib import metadata

        for dist in metadata.distributions(path=[os.path.dirname(location)]):
            name = dist.metadata["Name"] or "?"
            if name.lower().replace("_", "-") == "attune-companion":
                continue
            files = {str(f).replace("\\", "/") for f in (dist.files or ())}
            top = (dist.read_text("top_level.txt") or "").split()
            if "attune/__init__.py" in files or "attune.py" in files or "attune" in top:
                return f"{name} {dist.version}"
    except Exception:  # naming the owner is a courtesy; never fail the start for it
        pass
    return ""


def ignore_foreign_attune(bundled: bool) -> str | None:
    """Binds ``attune`` to our namespace portions if another package of that name would
    shadow them. Returns the line written to stderr, or None when nothing was in the way."""
    try:
        spec = importlib.util.find_spec("attune")  # a top-level name: imports nothing
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None or spec.origin == "namespace":
        return None  # not found (the import below says so), or a namespace package: ours come first
    origin = spec.origin
    location = os.path.dirname(origin) if os.path.basename(origin).startswith("__init__.") else origin
    portions = _namespace_portions()
    using = "the bundled server" if bundled else "the installed attune-companion"
    line = (
        f"attune: ignoring another package named 'attune' at {location} "
        f"({_owner(location) or 'attune-ai?'}); using {using}"
    )
    print(line, file=sys.stderr, flush=True)
    if portions:
        ours = importlib.machinery.ModuleSpec("attune", None, is_package=True)
        ours.submodule_search_locations = portions
        for name in [n for n in sys.modules if n == "attune" or n.startswith("attune.")]:
            del sys.modules[name]  # imported at start-up by a .pth file, say
        sys.modules["attune"] = importlib.util.module_from_spec(ours)
    return line


def prepare() -> None:
    """Everything before ``attune.lsp`` is imported (the smoke test runs just this)."""
    ignore_foreign_attune(add_bundled_libs())


if __name__ == "__main__":
    prepare()
    runpy.run_module("attune.lsp", run_name="__main__", alter_sys=True)
