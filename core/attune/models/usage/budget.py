"""The block budget the user set in the strategy (``subscription_block_budget_tokens``).

Anthropic does not publish subscription limits as token counts, so there is no
default: without a budget in the strategy, no share of one is shown.
"""

from __future__ import annotations

from pathlib import Path

from attune.models._internal import paths
from attune.models.usage.blocks import UsageBlock


def block_budget_tokens(strategy_path: Path | None = None) -> int | None:
    """The budget per 5-hour block from the strategy file; None when unset or when
    there is no strategy file (then pydantic is not even loaded). Raises
    ``StrategyFileError`` when the file cannot be used."""
    target = strategy_path if strategy_path is not None else paths.auth_strategy_path()
    if not target.exists():
        return None
    from attune.models.strategy.model import AuthStrategy

    return AuthStrategy.load(target).subscription_block_budget_tokens


def budget_used_percent(block: UsageBlock, budget: int) -> float:
    """How much of the block budget the block's tokens are, in % (can exceed 100)."""
    return 100.0 * block.total_tokens / budget
