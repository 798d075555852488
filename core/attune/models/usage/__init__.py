"""Subscription usage as Claude Code's own session logs show it (ccusage's rules).

Claude Code writes one JSON line per event to ``projects/**/*.jsonl`` under its
config folders; each assistant entry carries the API's ``usage`` for that message.
``UsageReader`` reads those files incrementally into a SQLite cache in the state
folder (``usage.db``), deduplicated by message id + request id, and answers per
5-hour block, day, project and model, priced with the pricing registry.

The logs are only ever read; the cache is derived from them and rebuilt when it is
unusable.
"""

from __future__ import annotations

from attune.models.usage.blocks import BLOCK_HOURS, UsageBlock
from attune.models.usage.budget import block_budget_tokens, budget_used_percent
from attune.models.usage.reader import ReadStats, UsageReader, subscription_block
from attune.models.usage.roots import log_roots
from attune.models.usage.totals import TokenCounts, UsageTotals

__all__ = [
    "BLOCK_HOURS",
    "ReadStats",
    "TokenCounts",
    "UsageBlock",
    "UsageReader",
    "UsageTotals",
    "block_budget_tokens",
    "budget_used_percent",
    "log_roots",
    "subscription_block",
]
