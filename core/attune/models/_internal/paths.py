"""Where Attune's files live.

platformdirs picks the per-user directories. ``ATTUNE_HOME``, when set, puts every
file of ours under that one folder (tests and benchmarks use it). The functions read
the environment on each call so a process that changes ``ATTUNE_HOME`` (a test) sees
the change; ``AUTH_STRATEGY_FILE`` in ``auth_strategy`` is the value at import.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

APP_NAME = "attune"
HOME_ENV = "ATTUNE_HOME"


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV)
    return Path(value).expanduser() if value else None


@cache
def _platform_dirs() -> tuple[Path, Path]:
    # platformdirs' answer does not change within a process; asking it costs enough
    # to show when a scan prices thousands of files.
    from platformdirs import user_config_path, user_state_path

    return user_config_path(APP_NAME), user_state_path(APP_NAME)


def config_dir() -> Path:
    """Holds ``auth_strategy.json``, ``pricing.json`` and ``backups/``."""
    home = _home()
    return home if home is not None else _platform_dirs()[0]


def state_dir() -> Path:
    """Holds the SQLite stores shared by every process of the user."""
    home = _home()
    return home / "state" if home is not None else _platform_dirs()[1]


def auth_strategy_path() -> Path:
    return config_dir() / "auth_strategy.json"


def backups_dir() -> Path:
    return config_dir() / "backups"


def pricing_path() -> Path:
    return config_dir() / "pricing.json"


def breaker_db_path() -> Path:
    return state_dir() / "breaker.db"


def telemetry_db_path() -> Path:
    return state_dir() / "telemetry.db"
