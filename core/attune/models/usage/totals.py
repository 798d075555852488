"""Token counts and priced totals: one row of a usage summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attune.models.usage.costs import ModelUsage, cost_of


@dataclass(frozen=True)
class TokenCounts:
    """The four kinds of tokens the API reports per message.

    ``total`` counts all four, as ccusage does: every one of them is processed by the
    model for the user's requests, and Claude Code's limits are not published as any
    one kind. Cache reads dominate long sessions, so the total is far above what
    ``input + output`` would suggest; the per-kind counts are kept beside it."""

    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_creation + self.cache_read

    def __add__(self, other: TokenCounts) -> TokenCounts:
        return TokenCounts(
            self.input + other.input,
            self.output + other.output,
            self.cache_creation + other.cache_creation,
            self.cache_read + other.cache_read,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input,
            "output_tokens": self.output,
            "cache_creation_tokens": self.cache_creation,
            "cache_read_tokens": self.cache_read,
            "total_tokens": self.total,
        }


@dataclass(frozen=True)
class UsageTotals:
    """What a group of log entries (a day, a project, a model, everything) used.

    ``cost_usd`` is the API-equivalent price of the entries whose model the pricing
    registry knows; ``unpriced_models`` names the others, whose tokens are counted but
    not priced. ``cost_usd`` is None when no entry of the group could be priced."""

    key: str
    tokens: TokenCounts = TokenCounts()
    cost_usd: float | None = None
    entries: int = 0
    models: tuple[str, ...] = ()
    unpriced_models: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            **self.tokens.to_dict(),
            "cost_usd": round(self.cost_usd, 6) if self.cost_usd is not None else None,
            "entries": self.entries,
            "models": list(self.models),
            "unpriced_models": list(self.unpriced_models),
        }


def combine(key: str, rows: list[ModelUsage]) -> UsageTotals:
    """One group's totals from its per-model rows, priced per model."""
    tokens = TokenCounts()
    cost: float | None = None
    unpriced = []
    entries = 0
    for row in rows:
        tokens = tokens + TokenCounts(row.input, row.output, row.cache_creation, row.cache_read)
        entries += row.entries
        dollars = cost_of(row)
        if dollars is None:
            unpriced.append(row.model)
        else:
            cost = dollars if cost is None else cost + dollars
    models = tuple(sorted({row.model for row in rows}))
    return UsageTotals(key, tokens, cost, entries, models, tuple(sorted(set(unpriced))))
