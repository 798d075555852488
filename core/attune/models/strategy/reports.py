"""One file's answer — task, lines, category, mode and reason, tokens, cost — as a dict.

`attune auth recommend`, `attune scan` and the language server all show this row,
so it is built in exactly one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attune.models.pricing.pipeline import DEFAULT_TASK
from attune.models.strategy.estimates import estimate_task
from attune.models.strategy.model import AuthStrategy


def load_strategy_for_report() -> AuthStrategy:
    """The saved strategy (defaults when none). A corrupt file raises StrategyFileError:
    a report made silently from defaults would mislead."""
    return AuthStrategy.load()


def report_for_lines(
    path: str, lines: int, generated: bool, strategy: AuthStrategy, task: str = DEFAULT_TASK
) -> dict[str, Any]:
    """``task`` (default ``document``) is the task priced: its cost in the
    recommended mode."""
    rec = strategy.recommend(lines, task)
    cost = estimate_task(task, lines=lines, mode=rec.mode, strategy=strategy)
    return {
        "path": path,
        "task": cost.task,
        "lines": lines,
        "category": rec.category,
        "mode": rec.mode.value,
        "reason": rec.reason,
        "tokens": rec.tokens,
        "monetary_cost": round(cost.total_cost, 6),
        "fits_in_context": cost.fits_in_context,
        "generated": generated,
    }


def report_for_loc(path: Path | str, loc: Any, strategy: AuthStrategy, task: str = DEFAULT_TASK) -> dict[str, Any]:
    """The row for a file already counted (``loc`` is a ``loc.LocResult``)."""
    return report_for_lines(str(path), loc.code_lines, bool(loc.generated), strategy, task)


GENERATED_CAUTION = "Generated file: its size may not reflect code anyone edits by hand."
