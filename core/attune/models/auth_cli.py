"""``attune.models.auth_cli``: the module path the seed documents name for the auth
commands. The commands live in ``attune.cli.auth`` (the library never imports its
faces); this module loads them only when one is used, so importing it stays cheap.

It is the one import from ``attune.models`` up into ``attune.cli``, named as an
exception in the import-layer contracts (pyproject.toml)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attune.cli.auth import cmd_auth_recommend, cmd_auth_reset, cmd_auth_setup, cmd_auth_status
    from attune.cli.main import main

__all__ = ["cmd_auth_recommend", "cmd_auth_reset", "cmd_auth_setup", "cmd_auth_status", "main"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name == "main":
        from attune.cli.main import main

        return main
    from attune.cli import auth

    return getattr(auth, name)


def __dir__() -> list[str]:
    return sorted(__all__)
