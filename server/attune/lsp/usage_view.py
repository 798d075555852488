"""``attune/usage``: the subscription's current 5-hour block and today's usage, read
from Claude Code's own logs, sent after each change of the logs.

The logs are read incrementally (``attune.models.usage.UsageReader``: only new bytes
are parsed), off the event loop, every ``USAGE_POLL_SECONDS``. A notification is
sent at start and whenever what it says changes; the time left in a block is not a
change (the payload carries ``end`` so the editor can count down by itself). The
current block is also kept for the recommendation's block-budget rule.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .watchers import ReportOnce, poll_forever

logger = logging.getLogger(__name__)

USAGE_POLL_SECONDS = 2.0


def usage_payload(reader: Any, budget: int | None, now: datetime) -> dict[str, Any]:
    """What ``attune/usage`` carries: where the logs are looked for, whether any
    were found, the current block (None when no block is active), today's totals,
    the block budget and the share of it used (None without a budget)."""
    from attune.models.usage import budget_used_percent

    block = reader.current_block(now)
    found = any(root.is_dir() for root in reader.roots)
    return {
        "found": found,
        "roots": [str(root) for root in reader.roots],
        "current_block": block.to_dict(now) if block is not None else None,
        "today": reader.today(now).to_dict(),
        "budget_tokens": budget,
        "budget_used_percent": round(budget_used_percent(block, budget), 1) if block and budget else None,
        "skipped_lines": reader.skipped_lines(),
    }


def _change_key(payload: dict[str, Any]) -> Any:
    block = payload["current_block"]
    return {**payload, "current_block": None if block is None else {**block, "seconds_left": None}}


class UsageWatcher:
    """Polls the logs; ``send`` gets each changed payload, ``on_block`` the current
    ``SubscriptionBlock`` (or None) whenever it changes."""

    def __init__(
        self,
        send: Callable[[dict[str, Any]], None],
        on_block: Callable[[Any], None],
        budget: Callable[[], int | None],
        reports: ReportOnce,
        reader: Any = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._send = send
        self._on_block = on_block
        self._budget = budget
        self._reports = reports
        self._reader = reader
        self._clock = clock
        self._last_key: Any = None
        self.block: Any = None  # SubscriptionBlock | None

    def _read(self) -> tuple[dict[str, Any], Any]:
        from attune.models.usage import UsageReader, subscription_block

        if self._reader is None:
            self._reader = UsageReader()
        now = self._clock()
        self._reader.refresh()
        return usage_payload(self._reader, self._budget(), now), subscription_block(self._reader, now)

    async def check(self) -> bool:
        """Read what is new; notify when the payload changed. True when it did."""
        payload, block = await asyncio.to_thread(self._read)
        if block != self.block:
            self.block = block
            self._on_block(block)
        key = _change_key(payload)
        if key == self._last_key:
            return False
        self._last_key = key
        self._send(payload)
        return True

    async def run(self) -> None:
        await poll_forever(
            self.check, self._reports, "usage watcher", "Reading Claude Code's usage logs failed", USAGE_POLL_SECONDS
        )

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
