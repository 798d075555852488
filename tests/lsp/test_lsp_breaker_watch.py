"""The breaker watcher's timing rule with a real CircuitBreaker and a moved clock:
OPEN turns HALF_OPEN by time alone (no store write), and the editor must still hear it."""

from __future__ import annotations

import asyncio

from attune.lsp.watchers import BreakerWatcher, ReportOnce
from attune.models.breaker.circuit_breaker import CircuitBreaker


def test_open_to_half_open_by_time_alone_is_notified() -> None:
    now = [1_800_000_000.0]
    clock = lambda: now[0]  # noqa: E731
    breaker = CircuitBreaker(recovery_timeout_seconds=60, clock=clock)
    sent: list[dict] = []
    watcher = BreakerWatcher(sent.append, ReportOnce(), breaker=breaker, clock=clock)

    async def scenario() -> None:
        await watcher.check(force=True)  # the one after `initialized`
        for _ in range(5):
            breaker.record_failure("anthropic", "premium")
        await watcher.check()
        now[0] += 30
        await watcher.check()  # nothing changed: no notification
        now[0] += 31  # past retry_at: no write to the store, only time passed
        await watcher.check()

    asyncio.run(scenario())

    assert [p["open"] for p in sent] == [0, 1, 0]
    assert sent[1]["providers"]["anthropic:premium"]["state"] == "open"
    assert sent[2]["half_open"] == 1
    assert sent[2]["providers"]["anthropic:premium"]["state"] == "half_open"


def test_a_failing_store_is_logged_once_not_every_tick(caplog) -> None:
    class UnreachableStore:  # a breaker whose store is gone (e.g. a deleted mount)
        calls = 0

        def change_token(self) -> int:
            self.calls += 1
            raise OSError("disk on fire")

    broken = UnreachableStore()
    watcher = BreakerWatcher(lambda payload: None, ReportOnce(), breaker=broken)

    async def scenario() -> None:
        task = asyncio.ensure_future(watcher.run())
        while broken.calls < 3:  # three ticks of the real loop
            await asyncio.sleep(0.05)
        task.cancel()

    with caplog.at_level("ERROR", logger="attune.lsp.watchers"):
        asyncio.run(scenario())
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "disk on fire" in errors[0].getMessage()
