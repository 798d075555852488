"""Fixtures shared by the executor's suites: an in-memory breaker on a manual clock
and an executor over it against the loopback fake API (a suite that needs another
breaker or store defines its own, which wins)."""

from __future__ import annotations

from pathlib import Path

import pytest

from attune.models import CircuitBreaker, EmpathyLLMExecutor, TelemetryStore
from support.fake_anthropic import TEST_API_KEY, FakeAnthropic
from support.manual_clock import ManualClock


@pytest.fixture
def breaker() -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=5, recovery_timeout_seconds=60, store="memory://", clock=ManualClock())


@pytest.fixture
async def executor(fake_api: FakeAnthropic, breaker: CircuitBreaker, tmp_path: Path):
    ex = EmpathyLLMExecutor(
        telemetry_store=TelemetryStore(tmp_path / "t.db"),
        breaker=breaker,
        api_key=TEST_API_KEY,
        base_url=fake_api.base_url,
        timeout=5.0,
    )
    yield ex
    await ex.aclose()
