"""ResilientExecutor: retries, Retry-After, fallback along tiers, AllProvidersFailedError.

Everything goes through the real SDK to the local fake API; waits are recorded by an
injected sleep instead of being slept."""

from __future__ import annotations

import pytest

from attune.models import (
    AllProvidersFailedError,
    EmpathyLLMExecutor,
    FallbackStrategy,
    ResilientExecutor,
    RetryPolicy,
    TelemetryStore,
    get_model,
)
from support.fake_anthropic import (
    FakeAnthropic,
    error,
    ok,
    overloaded,
    rate_limited,
    server_error,
)

CHEAP = get_model("anthropic", "cheap")
CAPABLE = get_model("anthropic", "capable")
PREMIUM = get_model("anthropic", "premium")


class SleepRecorder:
    """Stands in for asyncio.sleep: records each requested delay, returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleep() -> SleepRecorder:
    return SleepRecorder()


def resilient(executor, sleep, fallback=None, **policy) -> ResilientExecutor:
    policy.setdefault("jitter", False)
    return ResilientExecutor(executor, RetryPolicy(**policy), fallback, sleep=sleep)


def models_sent(fake: FakeAnthropic) -> list[str]:
    return [r.model for r in fake.requests]


async def test_rate_limit_waits_the_retry_after_then_succeeds(executor, fake_api, sleep):
    fake_api.enqueue(rate_limited(retry_after=7), ok("done"))

    response = await resilient(executor, sleep).run("fix_bug", "x")

    assert response.content == "done"
    assert sleep.delays == [7.0]
    assert models_sent(fake_api) == [CAPABLE.id, CAPABLE.id]
    assert response.metadata["attempts"] == 2


async def test_exponential_backoff_without_retry_after(executor, fake_api, sleep):
    fake_api.enqueue(server_error(), overloaded(), ok())

    response = await resilient(executor, sleep, base_delay=0.5).run("fix_bug", "x")

    assert response.success
    assert sleep.delays == [0.5, 1.0]


async def test_retry_after_longer_than_max_delay_moves_to_the_next_tier(executor, fake_api, sleep):
    fake_api.enqueue(rate_limited(retry_after=120))

    response = await resilient(executor, sleep, max_delay=30).run("fix_bug", "x")

    assert response.success
    assert sleep.delays == []  # not waited out
    assert models_sent(fake_api) == [CAPABLE.id, CHEAP.id]
    assert response.metadata["fallback_index"] == 1


async def test_retry_after_ignored_when_policy_says_so(executor, fake_api, sleep):
    fake_api.enqueue(rate_limited(retry_after=7), ok())
    await resilient(executor, sleep, honor_retry_after=False, base_delay=0.25).run("fix_bug", "x")
    assert sleep.delays == [0.25]


async def test_auth_error_is_not_retried_and_stops_the_chain(fake_api, breaker, tmp_path, sleep):
    async with EmpathyLLMExecutor(
        telemetry_store=TelemetryStore(tmp_path / "t.db"),
        breaker=breaker,
        api_key="sk-ant-wrong-not-a-secret",
        base_url=fake_api.base_url,
    ) as ex:
        with pytest.raises(AllProvidersFailedError) as info:
            await resilient(ex, sleep, fallback=FallbackStrategy.downgrade_from("premium")).run("final_review", "x")
    assert [a.error_type for a in info.value.attempts] == ["auth"]
    assert len(fake_api.requests) == 1
    assert sleep.delays == []


async def test_bad_request_is_not_retried_but_falls_back(executor, fake_api, sleep):
    fake_api.enqueue(error(404, "model: not found"))
    response = await resilient(executor, sleep).run("fix_bug", "x")
    assert response.success
    assert models_sent(fake_api) == [CAPABLE.id, CHEAP.id]
    assert sleep.delays == []


async def test_falls_back_along_tiers_when_premium_breaker_is_open(executor, fake_api, breaker, sleep):
    for _ in range(5):
        breaker.record_failure("anthropic", "premium", error_type="overloaded")

    response = await resilient(executor, sleep, fallback=FallbackStrategy.downgrade_from("premium")).run(
        "final_review", "x"
    )

    assert response.success
    assert response.model_id == CAPABLE.id
    assert models_sent(fake_api) == [CAPABLE.id]  # nothing was sent to the open premium tier
    assert response.metadata["failed_attempts"] == [
        f"{PREMIUM.id} (circuit_open): circuit breaker open for anthropic:premium; no request sent"
    ]


async def test_default_chain_starts_at_the_task_tier_and_goes_cheaper(executor, fake_api, sleep):
    fake_api.enqueue(*[server_error()] * 2)
    response = await resilient(executor, sleep, max_attempts=2).run("final_review", "x")
    assert response.success
    assert models_sent(fake_api) == [PREMIUM.id, PREMIUM.id, CAPABLE.id]


async def test_all_failed_lists_every_attempt_in_order(executor, fake_api, sleep):
    fake_api.enqueue(*[server_error()] * 6)
    strategy = FallbackStrategy.downgrade_from("premium")

    with pytest.raises(AllProvidersFailedError) as info:
        await resilient(executor, sleep, fallback=strategy, max_attempts=2).run("final_review", "x")

    attempts = info.value.attempts
    assert [a.model_id for a in attempts] == [PREMIUM.id, PREMIUM.id, CAPABLE.id, CAPABLE.id, CHEAP.id, CHEAP.id]
    assert {a.error_type for a in attempts} == {"server"}
    message = str(info.value)
    assert all(m.id in message for m in (PREMIUM, CAPABLE, CHEAP))
    assert "6 attempt(s)" in message
    assert len(sleep.delays) == 3  # one wait per target between its two calls


async def test_breaker_opening_mid_retries_stops_calls_to_that_tier(executor, fake_api, breaker, sleep):
    fake_api.enqueue(*[server_error()] * 5)

    response = await resilient(executor, sleep, max_attempts=10).run("fix_bug", "x")

    assert response.success
    # five failures open anthropic:capable; the sixth try is refused locally, then cheap answers
    assert models_sent(fake_api) == [CAPABLE.id] * 5 + [CHEAP.id]
    assert breaker.get_status()["anthropic:capable"]["state"] == "open"


async def test_explicit_model_chain(executor, fake_api, sleep):
    fake_api.enqueue(server_error())
    response = await resilient(
        executor, sleep, max_attempts=1, fallback=FallbackStrategy.models(CHEAP.id, PREMIUM.id)
    ).run("fix_bug", "x")
    assert response.model_id == PREMIUM.id
    assert models_sent(fake_api) == [CHEAP.id, PREMIUM.id]


# --- policy and strategy values --------------------------------------------------------


def test_backoff_doubles_and_is_capped():
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=False)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_stays_between_half_and_full_delay():
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0, jitter=True)
    assert policy.backoff(3, rand=lambda: 0.0) == 2.0
    assert policy.backoff(3, rand=lambda: 0.999999) == pytest.approx(4.0)


def test_fallback_strategy_constructors_and_validation():
    assert [str(t) for t in FallbackStrategy.downgrade_from("premium")] == [
        "anthropic:premium",
        "anthropic:capable",
        "anthropic:cheap",
    ]
    assert [str(t) for t in FallbackStrategy.downgrade_from("capable")] == ["anthropic:capable", "anthropic:cheap"]
    with pytest.raises(ValueError, match="unknown tier"):
        FallbackStrategy.tiers("gold")
    with pytest.raises(ValueError):
        FallbackStrategy([])
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
