"""5-hour blocks, the way Claude Code's subscription limits are windowed (ccusage's rule).

A block starts at its first entry's time floored to the hour (UTC) and lasts
``BLOCK_HOURS``. An entry more than 5 hours after the block's start, or more than
5 hours after the entry before it, starts a new block; an entry exactly at the end
still belongs to the block that ends then (ccusage compares with ``>``). A block is
active while ``now`` is before its end and within 5 hours of its last entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from attune.models.usage.totals import TokenCounts, UsageTotals

BLOCK_HOURS = 5
BLOCK_MS = BLOCK_HOURS * 3_600_000
_HOUR_MS = 3_600_000


def to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive time is local time
    return round(moment.timestamp() * 1000)


def block_spans(timestamps: Iterable[int]) -> list[tuple[int, int, int]]:
    """``(block start, first entry, last entry)`` in ms for ascending ``timestamps``."""
    spans: list[tuple[int, int, int]] = []
    start = first = last = 0
    open_block = False
    for ts in timestamps:
        if open_block and (ts - start > BLOCK_MS or ts - last > BLOCK_MS):
            spans.append((start, first, last))
            open_block = False
        if not open_block:
            start, first, open_block = ts - ts % _HOUR_MS, ts, True
        last = ts
    if open_block:
        spans.append((start, first, last))
    return spans


@dataclass(frozen=True)
class UsageBlock:
    """One 5-hour block: when it started and resets, what it used."""

    start: datetime
    end: datetime  # when the block resets: start + 5 h
    first_entry: datetime
    last_entry: datetime
    totals: UsageTotals
    is_active: bool

    @property
    def tokens(self) -> TokenCounts:
        return self.totals.tokens

    @property
    def total_tokens(self) -> int:
        return self.totals.tokens.total

    @property
    def cost_usd(self) -> float | None:
        return self.totals.cost_usd

    @property
    def entries(self) -> int:
        return self.totals.entries

    @property
    def models(self) -> tuple[str, ...]:
        return self.totals.models

    @property
    def resets_at(self) -> datetime:
        return self.end

    def seconds_left(self, now: datetime | None = None) -> float:
        return max(0.0, (self.end - (now or datetime.now(UTC))).total_seconds())

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "first_entry": self.first_entry.isoformat(),
            "last_entry": self.last_entry.isoformat(),
            "is_active": self.is_active,
            "seconds_left": round(self.seconds_left(now)) if self.is_active else 0,
            **self.totals.to_dict(),
        }


def is_active(start_ms: int, last_ms: int, now_ms: int) -> bool:
    return now_ms < start_ms + BLOCK_MS and now_ms - last_ms < BLOCK_MS
