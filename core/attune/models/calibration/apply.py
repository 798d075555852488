"""Putting a calibrated tokens-per-line figure into the strategy
(``loc_to_tokens_multiplier``), backed up first.

The strategy has one multiplier for every file, so a folder with several languages
needs one figure for all of them: the file-weighted mean of the languages' tokens per
line, each language weighted by how many files it has (in the folder sampled, or in
the runs for a calibration from runs alone). A folder of 90 Python files and 10
TypeScript files gets 0.9 x Python's rate + 0.1 x TypeScript's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from attune.models.calibration.model import LanguageRates

if TYPE_CHECKING:
    from attune.models.strategy.backups import ChangeResult

#: The figure written is rounded to this many decimals (the estimate's precision).
MULTIPLIER_DECIMALS = 2


def directory_multiplier(languages: Mapping[str, LanguageRates], weights: Mapping[str, int] | None = None) -> float:
    """The file-weighted tokens per line over ``languages``: each weighted by
    ``weights[language]`` (files of that language in the folder), or by its own
    ``files`` when ``weights`` is None or lacks it. ValueError for no language."""
    total = 0.0
    count = 0
    for language, rates in languages.items():
        weight = (weights or {}).get(language, rates.files)
        total += weight * rates.tokens_per_line.value
        count += weight
    if count <= 0:
        raise ValueError("no calibrated language to take tokens per line from")
    return round(total / count, MULTIPLIER_DECIMALS)


def apply_multiplier(value: float, path: Path | None = None) -> ChangeResult:
    """Set the strategy's ``loc_to_tokens_multiplier`` to ``value``, backing up the
    strategy first (the defaults are backed up when there is no strategy file yet,
    so there is always a backup to restore). ValueError when ``value`` is outside
    the strategy's bounds; StrategyFileError for an unusable strategy file (nothing
    changed)."""
    from attune.models._internal import paths
    from attune.models.strategy.backups import save_with_backup, write_backup
    from attune.models.strategy.model import AuthStrategy

    target = path or paths.auth_strategy_path()
    current = AuthStrategy.load(target)  # an unusable file stops here, untouched
    updated = AuthStrategy.from_dict({**current.to_dict(), "loc_to_tokens_multiplier": value})
    if not target.exists():
        backup = write_backup(current.to_dict())
        return replace(save_with_backup(updated, target), backup=backup, previous=current.to_dict())
    return save_with_backup(updated, target)
