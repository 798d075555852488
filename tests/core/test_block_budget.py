"""The subscription block budget: over 90% of it used, AUTO sends medium and large
modules to the API and says why; without a budget nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from attune.models.strategy.model import AuthMode, AuthStrategy, SubscriptionBlock

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def block(used: int, left: timedelta = timedelta(hours=1, minutes=12)) -> SubscriptionBlock:
    return SubscriptionBlock(used_tokens=used, resets_at=NOW + left)


def strategy(**changes: object) -> AuthStrategy:
    return AuthStrategy.model_validate({"subscription_tier": "max", **changes})


@pytest.mark.parametrize("lines", [800, 5000])
def test_nearly_used_block_sends_medium_and_large_modules_to_the_api(lines: int) -> None:
    rec = strategy(subscription_block_budget_tokens=1_000_000).recommend(lines, block=block(930_000), now=NOW)
    assert rec.mode is AuthMode.API
    assert rec.rule == "subscription_block_nearly_used"
    assert "your subscription block is 93% used (resets in 1 h 12 min)" in rec.reason


def test_small_modules_and_blocks_under_90_percent_are_unchanged() -> None:
    s = strategy(subscription_block_budget_tokens=1_000_000)
    assert s.recommend(100, block=block(990_000), now=NOW).rule == "small_module"
    assert s.recommend(800, block=block(900_000), now=NOW).mode is AuthMode.SUBSCRIPTION


def test_without_a_budget_the_block_is_only_shown_never_assumed() -> None:
    assert strategy().recommend(800, block=block(10**9), now=NOW).mode is AuthMode.SUBSCRIPTION


def test_a_block_that_has_reset_no_longer_counts() -> None:
    s = strategy(subscription_block_budget_tokens=1_000)
    assert s.recommend(800, block=block(5_000, left=timedelta(seconds=-1)), now=NOW).mode is AuthMode.SUBSCRIPTION


def test_explicit_subscription_mode_is_kept() -> None:
    s = strategy(subscription_block_budget_tokens=1_000, default_mode="subscription")
    assert s.recommend(800, block=block(5_000), now=NOW).rule == "explicit_mode"


def test_calibrated_tokens_decide_the_context_rule() -> None:
    # 10,000 lines x 4 = 40K tokens fits the subscription; a calibrated 250K does not
    s = strategy()
    assert s.recommend(10_000).mode is AuthMode.SUBSCRIPTION
    rec = s.recommend(10_000, tokens=250_000)
    assert rec.rule == "exceeds_subscription_context"
    assert rec.tokens == 250_000


@pytest.mark.parametrize("bad", [0, -5, True, 1.5])
def test_budget_must_be_a_positive_whole_number(bad: object) -> None:
    with pytest.raises(ValueError, match="subscription_block_budget_tokens"):
        AuthStrategy.from_dict({"subscription_block_budget_tokens": bad})


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(4320, "1 h 12 min"), (7200, "2 h"), (300, "5 min"), (59, "under a minute"), (-10, "under a minute")],
)
def test_time_left_reads_in_hours_and_minutes(seconds: float, text: str) -> None:
    from attune.models.formatting import format_duration_short

    assert format_duration_short(seconds) == text
