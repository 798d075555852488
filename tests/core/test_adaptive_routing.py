"""The adaptive router over a real telemetry store (and a real circuit breaker)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from attune.models import AdaptiveModelRouter, LLMCallRecord, ModelPerformance, TelemetryStore
from attune.models.pricing.registry import MODEL_REGISTRY, ModelInfo
from attune.models.routing.router import RoutingDecision, wilson_lower_bound
from support.manual_clock import ManualClock

HAIKU, SONNET, OPUS = "claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-6"
TIER_OF = {HAIKU: "cheap", SONNET: "capable", OPUS: "premium"}
LOGGER = "attune.models.routing.router"


@pytest.fixture
def store(tmp_path: Path) -> TelemetryStore:
    s = TelemetryStore(tmp_path / "telemetry.db")
    yield s
    s.close()


def seed(
    store: TelemetryStore,
    model: str,
    n: int,
    *,
    failures: int = 0,
    latency: float = 500.0,
    cost: float = 0.002,
    workflow: str = "docs",
    stage: str = "review",
    start: timedelta = timedelta(minutes=1),
    newest_fail: bool = False,
    error_type: str = "timeout",
) -> None:
    """``n`` calls of ``model``, one a minute going back from ``start`` ago. Failures are
    the oldest calls unless ``newest_fail``."""
    now = datetime.now(UTC)
    failed = set(range(failures)) if newest_fail else set(range(n - failures, n))
    store.record_calls(
        LLMCallRecord(
            workflow=workflow,
            stage=stage,
            task_type=stage,
            provider="anthropic",
            tier=TIER_OF.get(model, "capable"),
            model_id=model,
            success=i not in failed,
            error_type=error_type if i in failed else None,
            latency_ms=latency,
            tokens_input=1000,
            tokens_output=200,
            cost=cost,
            timestamp=now - start - timedelta(minutes=i),
        )
        for i in range(n)
    )


def warnings_from_router(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


# --- choosing ---------------------------------------------------------------------


def test_the_best_quality_model_wins(store: TelemetryStore) -> None:
    seed(store, HAIKU, 50, failures=1, latency=400, cost=0.001)
    seed(store, SONNET, 50, failures=10, latency=1500, cost=0.01)
    router = AdaptiveModelRouter(store)
    decision = router.explain("docs", "review")
    assert decision.model_id == HAIKU and not decision.fallback
    scores = {p.model_id: p.quality_score for p in decision.candidates}
    assert scores[HAIKU] > scores[SONNET]
    assert HAIKU in decision.reason and "quality score" in decision.reason
    assert router.get_best_model("docs", "review") == HAIKU


def test_models_with_fewer_than_ten_samples_are_not_ranked(store: TelemetryStore) -> None:
    seed(store, HAIKU, 9, latency=100, cost=0.0001)  # perfect, but only 9 calls
    seed(store, SONNET, 10, failures=1, latency=2000, cost=0.02)
    decision = AdaptiveModelRouter(store).explain("docs", "review")
    assert decision.model_id == SONNET
    [excluded] = decision.excluded
    assert excluded["model_id"] == HAIKU and "only 9 calls" in excluded["cause"]
    haiku = next(p for p in decision.candidates if p.model_id == HAIKU)
    assert haiku.sample_size == 9 and haiku.quality_score is None


def test_calls_outside_the_window_do_not_count(store: TelemetryStore) -> None:
    seed(store, OPUS, 50, start=timedelta(days=8))
    assert AdaptiveModelRouter(store).get_best_model("docs", "review") == SONNET  # tier default
    assert AdaptiveModelRouter(store, window_days=10).get_best_model("docs", "review") == OPUS


def test_more_samples_beat_the_same_rate_on_few(store: TelemetryStore) -> None:
    seed(store, HAIKU, 10, failures=1)
    seed(store, SONNET, 100, failures=10)  # same 90%, same latency and cost
    assert (
        AdaptiveModelRouter(
            store,
        ).get_best_model("docs", "review")
        == SONNET
    )
    assert wilson_lower_bound(9, 10) < wilson_lower_bound(90, 100) < 0.9


def test_a_model_failing_now_loses_to_one_whose_failures_are_old(store: TelemetryStore) -> None:
    seed(store, HAIKU, 60, failures=6, newest_fail=True)  # its newest 6 calls failed
    seed(store, SONNET, 60, failures=6)  # the same 6 failures, but long ago
    decision = AdaptiveModelRouter(store).explain("docs", "review", min_success_rate=0.5)
    perf = {p.model_id: p for p in decision.candidates}
    assert perf[HAIKU].recent_failures == 6 and perf[SONNET].recent_failures == 0
    assert decision.model_id == SONNET


def test_a_model_missing_from_the_registry_is_excluded(store: TelemetryStore) -> None:
    seed(store, "claude-retired-1", 50, latency=10, cost=0.0)
    seed(store, HAIKU, 50, latency=900)
    decision = AdaptiveModelRouter(store).explain("docs", "review")
    assert decision.model_id == HAIKU
    assert decision.excluded == [
        {
            "model_id": "claude-retired-1",
            "provider": "anthropic",
            "tier": "capable",
            "cause": "not in the model registry",
        }
    ]


# --- constraints ------------------------------------------------------------------


def test_max_latency_excludes_the_slow_model(store: TelemetryStore, caplog: pytest.LogCaptureFixture) -> None:
    seed(store, SONNET, 30, latency=3000, cost=0.0001)  # would win on everything else
    seed(store, HAIKU, 30, failures=3, latency=800, cost=0.002)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    decision = AdaptiveModelRouter(store).explain("docs", "review", max_latency_ms=1000)
    assert decision.model_id == HAIKU and not decision.fallback
    assert [e["model_id"] for e in decision.excluded] == [SONNET]
    assert "max_latency_ms 1000" in decision.excluded[0]["cause"]
    assert warnings_from_router(caplog) == []


def test_min_success_rate_excludes_the_unreliable_model(store: TelemetryStore) -> None:
    seed(store, HAIKU, 40, failures=12, latency=100, cost=0.0001)  # 70%
    seed(store, SONNET, 40, failures=2, latency=2000, cost=0.02)
    router = AdaptiveModelRouter(store)
    decision = router.explain("docs", "review")  # default min_success_rate 0.8
    assert decision.model_id == SONNET
    assert "success rate 70.0% < min_success_rate 80.0%" in decision.excluded[0]["cause"]
    assert router.get_best_model("docs", "review", min_success_rate=0.5) == HAIKU


def test_when_constraints_exclude_everything_the_fallback_is_a_warning_naming_them(
    store: TelemetryStore, caplog: pytest.LogCaptureFixture
) -> None:
    seed(store, HAIKU, 30, cost=0.001, latency=400)
    seed(store, OPUS, 30, cost=0.05, latency=2500)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    decision = AdaptiveModelRouter(store).explain(
        "docs", "review", max_cost=0.0005, max_latency_ms=2000, task_type="summarize"
    )
    assert decision.fallback and decision.model_id == HAIKU  # summarize -> cheap tier default
    [warning] = warnings_from_router(caplog)
    message = warning.getMessage()
    assert "no model meets the constraints" in message
    for text in (
        "max_cost=0.0005",
        "max_latency_ms=2000",
        "min_success_rate=0.8",
        f"{HAIKU}: avg cost",
        f"{OPUS}: avg latency 2500 ms > max_latency_ms 2000",
        "falling back to claude-haiku-4-5",
    ):
        assert text in message
    causes = {e["model_id"]: e["cause"] for e in decision.excluded}
    assert "max_cost" in causes[OPUS] and "max_latency_ms" in causes[OPUS]


def test_no_history_returns_the_tier_default_logged_at_debug(
    store: TelemetryStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    router = AdaptiveModelRouter(store)
    assert router.get_best_model("docs", "outline") == HAIKU  # stage names a cheap task
    assert router.get_best_model("docs", "whatever", task_type="novel_problem") == OPUS
    assert router.get_best_model("docs", "whatever") == SONNET  # unknown task: capable
    debug = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.DEBUG]
    assert len(debug) == 3 and "no model has 10 calls" in debug[0].getMessage()
    assert warnings_from_router(caplog) == []


def test_realtime_tasks_ignore_cost_limits_and_put_latency_first(store: TelemetryStore) -> None:
    seed(store, OPUS, 30, failures=2, latency=300, cost=0.05, stage="reply")
    seed(store, HAIKU, 30, latency=1500, cost=0.0005, stage="reply")
    router = AdaptiveModelRouter(store)
    # the same numbers for a batch task: the cheap, reliable model wins, and a cost cap
    # leaves only it
    assert router.get_best_model("docs", "reply") == HAIKU
    assert router.get_best_model("docs", "reply", max_cost=0.001) == HAIKU

    decision = router.explain("docs", "reply", max_cost=0.001, task_type="chat")
    assert decision.realtime and decision.model_id == OPUS and not decision.fallback
    assert decision.excluded == []
    assert decision.constraints["max_cost_applied"] is False
    # realtime by workflow or stage name too
    assert router.get_best_model("live_coding", "reply", max_cost=0.001) == SONNET  # no rows yet
    seed(store, OPUS, 30, latency=300, cost=0.05, workflow="live_coding", stage="reply")
    seed(store, HAIKU, 30, latency=1500, cost=0.0005, workflow="live_coding", stage="reply")
    assert router.get_best_model("live_coding", "reply", max_cost=0.001) == OPUS


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"max_cost": -1.0}, "max_cost"),
        ({"max_latency_ms": 0.0}, "max_latency_ms"),
        ({"min_success_rate": 1.5}, "min_success_rate"),
        ({"max_cost": float("nan")}, "max_cost"),
    ],
)
def test_impossible_constraints_are_refused(store: TelemetryStore, kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        AdaptiveModelRouter(store).get_best_model("docs", "review", **kwargs)


def test_a_registry_passed_in_is_the_one_used(store: TelemetryStore) -> None:
    mine = ModelInfo("my-small-model", "anthropic", "cheap", "Mine", 0.1, 0.2, 100_000, 8_000)
    registry = {"anthropic": {**MODEL_REGISTRY["anthropic"], "cheap": mine}}
    router = AdaptiveModelRouter(store, registry=registry)
    assert router.get_best_model("docs", "summarize") == "my-small-model"
    seed(store, HAIKU, 30)  # haiku is not in this registry
    assert "not in the model registry" in router.explain("docs", "review").excluded[0]["cause"]


# --- exploration ------------------------------------------------------------------


def test_exploration_is_off_by_default_and_seeded_when_on(store: TelemetryStore) -> None:
    seed(store, HAIKU, 50)
    default = AdaptiveModelRouter(store)
    assert {default.get_best_model("docs", "review") for _ in range(30)} == {HAIKU}

    explorer = AdaptiveModelRouter(store, exploration_rate=1.0, seed=3)
    decisions = [explorer.explain("docs", "review") for _ in range(30)]
    assert all(d.explored and d.model_id in {SONNET, OPUS} for d in decisions)
    assert {d.model_id for d in decisions} == {SONNET, OPUS}  # the under-sampled ones
    assert "exploring" in decisions[0].reason
    again = AdaptiveModelRouter(store, exploration_rate=1.0, seed=3)
    assert [again.get_best_model("docs", "review") for _ in range(30)] == [d.model_id for d in decisions]


# --- tier upgrades ----------------------------------------------------------------


def test_exactly_twenty_percent_failures_is_no_upgrade(store: TelemetryStore) -> None:
    seed(store, HAIKU, 20, failures=4, newest_fail=True)
    seed(store, HAIKU, 30, failures=30, start=timedelta(hours=2))  # older than the newest 20
    upgrade, reason = AdaptiveModelRouter(store).recommend_tier_upgrade("docs", "review")
    assert upgrade is False
    assert "4 of the newest 20 calls" in reason and "20%" in reason


def test_twenty_five_percent_failures_upgrades_to_the_next_tier(store: TelemetryStore) -> None:
    seed(store, HAIKU, 20, failures=5, newest_fail=True, error_type="overloaded")
    upgrade, reason = AdaptiveModelRouter(store).recommend_tier_upgrade("docs", "review")
    assert upgrade is True
    assert "5 of the newest 20 calls" in reason and "25%" in reason
    assert "from cheap to capable" in reason and SONNET in reason and "overloaded" in reason


def test_no_upgrade_past_premium_or_without_enough_calls(store: TelemetryStore) -> None:
    seed(store, OPUS, 20, failures=10)
    upgrade, reason = AdaptiveModelRouter(store).recommend_tier_upgrade("docs", "review")
    assert upgrade is False and "highest tier" in reason
    seed(store, HAIKU, 5, failures=5, stage="new")
    upgrade, reason = AdaptiveModelRouter(store).recommend_tier_upgrade("docs", "new")
    assert upgrade is False and "only 5 calls" in reason


# --- stats ------------------------------------------------------------------------


def test_routing_stats_shape_and_totals(store: TelemetryStore) -> None:
    seed(store, HAIKU, 30, failures=3, cost=0.001, latency=400)
    seed(store, SONNET, 10, cost=0.01, latency=900, stage="write")
    seed(store, SONNET, 5, workflow="other")
    router = AdaptiveModelRouter(store)

    stats = router.get_routing_stats("docs")
    assert {"models_used", "performance_by_model", "total_calls", "avg_cost", "avg_success_rate"} <= set(stats)
    assert stats["models_used"] == [HAIKU, SONNET]
    assert stats["total_calls"] == 40
    assert stats["avg_cost"] == pytest.approx((30 * 0.001 + 10 * 0.01) / 40)
    assert stats["avg_success_rate"] == pytest.approx(37 / 40)  # call-weighted
    haiku = stats["performance_by_model"][HAIKU]
    assert haiku["sample_size"] == 30 and haiku["success_rate"] == pytest.approx(0.9)
    assert haiku["avg_latency_ms"] == pytest.approx(400) and haiku["tier"] == "cheap"

    one_stage = router.get_routing_stats("docs", "write")
    assert one_stage["models_used"] == [SONNET] and one_stage["total_calls"] == 10

    empty = router.get_routing_stats("nobody", days=1)
    assert empty["total_calls"] == 0 and empty["models_used"] == []
    assert empty["avg_cost"] is None and empty["avg_success_rate"] is None
    with pytest.raises(ValueError, match="days"):
        router.get_routing_stats("docs", days=0)


def test_decision_serialises_for_the_cli(store: TelemetryStore) -> None:
    seed(store, HAIKU, 12)
    decision = AdaptiveModelRouter(store).explain("docs", "review")
    assert isinstance(decision, RoutingDecision)
    data = decision.to_dict()
    assert data["model_id"] == HAIKU and data["candidates"][0]["sample_size"] == 12
    assert isinstance(decision.candidates[0], ModelPerformance)


# --- circuit breaker --------------------------------------------------------------


def test_an_open_breaker_excludes_its_model_and_only_that_key(store: TelemetryStore) -> None:
    from attune.models import CircuitBreaker

    seed(store, HAIKU, 40, latency=300, cost=0.001)  # the best by far
    seed(store, SONNET, 40, failures=4, latency=1200, cost=0.01)
    clock = ManualClock(1_000_000.0)
    breaker = CircuitBreaker(failure_threshold=2, recovery_timeout_seconds=60, clock=clock)
    router = AdaptiveModelRouter(store, breaker=breaker)
    assert router.get_best_model("docs", "review") == HAIKU

    breaker.record_failure("anthropic", "premium")  # another tier: no effect on haiku
    breaker.record_failure("anthropic", "premium")
    assert router.get_best_model("docs", "review") == HAIKU

    breaker.record_failure("anthropic", "cheap")
    breaker.record_failure("anthropic", "cheap")
    decision = router.explain("docs", "review")
    assert decision.model_id == SONNET and not decision.fallback
    assert decision.excluded == [
        {
            "model_id": HAIKU,
            "provider": "anthropic",
            "tier": "cheap",
            "cause": "circuit breaker anthropic:cheap is open",
        }
    ]


def test_routing_does_not_take_the_half_open_probe(store: TelemetryStore) -> None:
    from attune.models import CircuitBreaker

    seed(store, HAIKU, 40, latency=300, cost=0.001)
    clock = ManualClock(1_000_000.0)
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout_seconds=60, half_open_calls=1, clock=clock)
    breaker.record_failure("anthropic", "cheap")
    clock.now += 61  # OPEN -> HALF_OPEN
    router = AdaptiveModelRouter(store, breaker=breaker)
    for _ in range(5):  # half-open is not excluded: the probe may go to it
        assert router.get_best_model("docs", "review") == HAIKU
    assert breaker.is_available("anthropic", "cheap") is True  # the one permit is still there
    assert breaker.is_available("anthropic", "cheap") is False


def test_every_breaker_open_falls_back_with_a_warning(store: TelemetryStore, caplog: pytest.LogCaptureFixture) -> None:
    from attune.models import CircuitBreaker

    seed(store, HAIKU, 20)
    seed(store, OPUS, 20)
    breaker = CircuitBreaker(failure_threshold=1, clock=ManualClock(1_000_000.0))
    breaker.record_failure("anthropic", "cheap")
    breaker.record_failure("anthropic", "premium")
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    decision = AdaptiveModelRouter(store, breaker=breaker).explain("docs", "review")
    assert decision.fallback and decision.model_id == SONNET
    [warning] = warnings_from_router(caplog)
    assert "circuit breaker anthropic:cheap is open" in warning.getMessage()
    assert "circuit breaker anthropic:premium is open" in warning.getMessage()
