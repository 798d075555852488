"""The one place Attune's version comes from: the installed distribution's metadata,
else ``FALLBACK_VERSION`` (a source tree run without installing). A test keeps the
constant equal to pyproject.toml's version.

``importlib.metadata`` costs ~15 ms to import, so callers ask only when they need the
answer (``attune --version``, ``attune-lsp --version``)."""

from __future__ import annotations

DISTRIBUTION = "attune-companion"
FALLBACK_VERSION = "0.1.0"


def attune_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return FALLBACK_VERSION
