"""One file's answer — lines, category, mode and reason, tokens, cost — as a dict.

`attune auth recommend`, `attune scan` and the language server all show this row,
so it is built in exactly one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attune.models.strategy.model import AuthStrategy


def load_strategy_for_report() -> AuthStrategy:
    """The saved strategy (defaults when none). A corrupt file raises StrategyFileError:
    a report made silently from defaults would mislead."""
    return AuthStrategy.load()


def report_for_lines(path: str, lines: int, generated: bool, strategy: AuthStrategy) -> dict[str, Any]:
    rec = strategy.recommend(lines)
    cost = strategy.estimate_cost(lines, rec.mode)
    return {
        "path": path,
        "lines": lines,
        "category": rec.category,
        "mode": rec.mode.value,
        "reason": rec.reason,
        "tokens": rec.tokens,
        "monetary_cost": cost["monetary_cost"],
        "fits_in_context": cost["fits_in_context"],
        "generated": generated,
    }


def report_for_loc(path: Path | str, loc: Any, strategy: AuthStrategy) -> dict[str, Any]:
    """The row for a file already counted (``loc`` is a ``loc.LocResult``)."""
    return report_for_lines(str(path), loc.code_lines, bool(loc.generated), strategy)


GENERATED_CAUTION = "Generated file: its size may not reflect code anyone edits by hand."
