"""``attune/apiSpend``: what the user's API calls cost today, from telemetry (this
machine's store, or the team's PostgreSQL), for the breaker item's tooltip.

"Today" is the local calendar day, as in ``attune/usage``. The store is read off the
event loop every ``SPEND_POLL_SECONDS`` (one day of the daily rollup and the calls of
the partial hour: a fraction of a millisecond on SQLite); a notification is sent at
start and whenever the figures change. With no telemetry yet the figures are zero.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .watchers import ReportOnce, poll_forever

SPEND_POLL_SECONDS = 5.0


def spend_payload(backend: Any, user: str, store: str, now: datetime) -> dict[str, Any]:
    """``{"day", "user", "calls", "failures", "cost", "store"}`` of ``user``'s calls
    since local midnight of ``now`` (an aware datetime)."""
    midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    mine = [row for row in backend.spend("user", since=midnight) if row.key == user]
    return {
        "day": midnight.date().isoformat(),
        "user": user,
        "calls": sum(r.calls for r in mine),
        "failures": sum(r.failures for r in mine),
        "cost": round(sum(r.cost for r in mine), 6),
        "store": store,
    }


class SpendWatcher:
    """Polls telemetry; ``send`` gets each changed payload."""

    def __init__(
        self,
        send: Callable[[dict[str, Any]], None],
        reports: ReportOnce,
        clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
    ) -> None:
        self._send = send
        self._reports = reports
        self._clock = clock
        self._last: dict[str, Any] | None = None

    @staticmethod
    def _read(now: datetime) -> dict[str, Any]:
        from attune.models.telemetry.backend import describe, get_telemetry_backend
        from attune.models.telemetry.identity import current_user

        return spend_payload(get_telemetry_backend(read_only=True), current_user(), describe(), now)

    async def check(self) -> bool:
        """Read today's spend; notify when it changed. True when it did."""
        payload = await asyncio.to_thread(self._read, self._clock())
        if payload == self._last:
            return False
        self._last = payload
        self._send(payload)
        return True

    async def run(self) -> None:
        await poll_forever(
            self.check,
            self._reports,
            "spend watcher",
            "Reading today's API spend from telemetry failed",
            SPEND_POLL_SECONDS,
        )
