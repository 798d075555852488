"""count_tokens / acount_tokens through the real SDK against the local fake API.

The fake counts one token per whitespace-separated word of every text
(``fake_anthropic.count_words``), so the expected numbers below are exact."""

from __future__ import annotations

import pytest

from attune.models import CircuitBreaker, count_tokens, get_model
from attune.models.llm.executor import CircuitOpenError, MissingAPIKeyError, ProviderError, acount_tokens
from support.fake_anthropic import (
    COUNT_TOKENS_PATH,
    TEST_API_KEY,
    FakeAnthropic,
    closed_port_url,
    rate_limited,
    server_error,
)
from support.manual_clock import ManualClock

SOURCE = "def add(a, b):\n    return a + b\n"  # 7 words


@pytest.fixture
def breaker() -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=5, recovery_timeout_seconds=60, store="memory://", clock=ManualClock())


def _count(fake: FakeAnthropic, breaker: CircuitBreaker, text: str = SOURCE, **kw) -> int:
    return count_tokens(text, api_key=TEST_API_KEY, base_url=fake.base_url, breaker=breaker, **kw)


def test_returns_the_api_count_and_sends_the_default_model(fake_api, breaker):
    assert _count(fake_api, breaker) == 7
    [sent] = fake_api.requests_to(COUNT_TOKENS_PATH)
    assert sent.model == get_model("anthropic", "capable").id
    assert sent.body["messages"] == [{"role": "user", "content": SOURCE}]


def test_model_and_system_are_sent(fake_api, breaker):
    haiku = get_model("anthropic", "cheap").id
    assert _count(fake_api, breaker, model=haiku, system="You review code") == 7 + 3
    assert fake_api.requests[-1].model == haiku


def test_empty_text_is_zero_without_a_request(fake_api, breaker):
    assert _count(fake_api, breaker, text="") == 0
    assert fake_api.requests == []


def test_missing_key_is_a_typed_error_with_the_fix(fake_api, breaker):
    with pytest.raises(MissingAPIKeyError) as info:
        count_tokens(SOURCE, base_url=fake_api.base_url, breaker=breaker)
    assert "ANTHROPIC_API_KEY" in str(info.value)
    assert "Attune: Set Up Authentication" in str(info.value)
    assert fake_api.requests == []


def test_key_from_environment(fake_api, breaker, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_API_KEY)
    assert count_tokens(SOURCE, base_url=fake_api.base_url, breaker=breaker) == 7


def test_open_breaker_raises_without_a_request(fake_api, breaker):
    for _ in range(5):
        breaker.record_failure("anthropic", "capable", error_type="server")
    with pytest.raises(CircuitOpenError):
        _count(fake_api, breaker)
    assert fake_api.requests == []


def test_server_errors_are_recorded_and_open_the_breaker(fake_api, breaker):
    fake_api.enqueue(*[server_error(500)] * 5)
    for _ in range(5):
        with pytest.raises(ProviderError) as info:
            _count(fake_api, breaker)
        assert info.value.error_type == "server"
    assert breaker.get_status()["anthropic:capable"]["state"] == "open"
    with pytest.raises(CircuitOpenError):
        _count(fake_api, breaker)
    assert len(fake_api.requests) == 5


def test_rate_limit_is_typed_with_retry_after_and_not_counted(fake_api, breaker):
    fake_api.enqueue(rate_limited(retry_after=3))
    with pytest.raises(ProviderError) as info:
        _count(fake_api, breaker)
    assert (info.value.error_type, info.value.retry_after) == ("rate_limit", 3.0)
    assert breaker.get_status().get("anthropic:capable", {}).get("failure_count", 0) == 0


def test_connection_refused_is_typed(breaker):
    with pytest.raises(ProviderError) as info:
        count_tokens(SOURCE, api_key=TEST_API_KEY, base_url=closed_port_url(), breaker=breaker)
    assert info.value.error_type == "connection"


async def test_async_twin_gives_the_same_count(fake_api, breaker):
    assert await acount_tokens(SOURCE, api_key=TEST_API_KEY, base_url=fake_api.base_url, breaker=breaker) == 7
    with pytest.raises(MissingAPIKeyError):
        await acount_tokens(SOURCE, base_url=fake_api.base_url, breaker=breaker)
