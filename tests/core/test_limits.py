"""The numeric bounds of docs/limits.md: every value inside them works end to end,
every value outside is refused where it enters, naming the field."""

from __future__ import annotations

import json
import math
import os

import pytest

from attune.models.strategy.model import AuthStrategy, StrategyFileError

# the largest strategy there can be, priced at the highest price pricing.json may set
LARGEST = {
    "subscription_tier": "max",
    "small_module_threshold": 9_999_999,
    "medium_module_threshold": 10_000_000,
    "loc_to_tokens_multiplier": 100.0,
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("loc_to_tokens_multiplier", 1e308),
        ("loc_to_tokens_multiplier", 100.01),
        ("loc_to_tokens_multiplier", 0.09),
        ("small_module_threshold", 10_000_001),
        ("medium_module_threshold", 10_000_001),
        ("medium_module_threshold", 10**400),
    ],
)
def test_a_value_out_of_range_is_refused_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        AuthStrategy.from_dict({field: value})


def test_the_bounds_themselves_are_accepted_and_every_estimate_stays_finite(attune_home):
    (attune_home / "pricing.json").write_text(
        json.dumps({"models": {m: {"input": 10_000, "output": 10_000} for m in _model_ids()}})
    )
    smallest = AuthStrategy.from_dict(
        {"small_module_threshold": 1, "medium_module_threshold": 2, "loc_to_tokens_multiplier": 0.1}
    )
    assert smallest.estimate_tokens(10) == 1
    largest = AuthStrategy.from_dict(LARGEST)
    for lines in (0, 1, 10_000_000, 10**12):
        for mode in ("api", "subscription"):
            cost = largest.estimate_cost(lines, mode)
            assert math.isfinite(cost["api_equivalent_cost"]) and math.isfinite(cost["monetary_cost"])
        assert largest.recommend(lines).reason
        assert largest.get_pros_cons(lines)["api"]["estimate"]["tokens"] == lines * 100


def test_a_strategy_file_holding_an_out_of_range_value_is_an_invalid_file_kept_as_it_is(attune_home):
    path = attune_home / "auth_strategy.json"
    path.write_text(json.dumps({"subscription_tier": "pro", "loc_to_tokens_multiplier": 1e308}))
    before = path.read_bytes()
    with pytest.raises(StrategyFileError, match="loc_to_tokens_multiplier") as bad:
        AuthStrategy.load()
    assert bad.value.path == path
    assert path.read_bytes() == before


@pytest.mark.parametrize("price", [10_000.01, 1e308])
def test_a_price_over_the_bound_is_an_invalid_pricing_file(attune_home, price):
    from attune.models.pricing.registry import PricingFileError, get_model

    (attune_home / "pricing.json").write_text(
        json.dumps({"models": {"claude-sonnet-4-6": {"input": 3.0, "output": price}}})
    )
    with pytest.raises(PricingFileError, match=r"pricing\.json.*claude-sonnet-4-6\.output"):
        get_model("anthropic", "capable")


def _model_ids() -> list[str]:
    from attune.models.pricing.registry import MODEL_REGISTRY

    return [m.id for tiers in MODEL_REGISTRY.values() for m in tiers.values()]


# ---- attune scan's worker processes ----------------------------------------------


def _tree(root, files: int):
    from attune.models.loc.scan import PARALLEL_MIN_FILES

    assert files >= PARALLEL_MIN_FILES  # big enough for a pool
    for i in range(files):
        path = root / f"d{i % 5}" / f"m{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"x = {i}\n")
    return root


def test_scan_never_counts_with_more_processes_than_cpus(tmp_path):
    from attune.models.loc.scan import max_workers, scan_tree

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert max_workers() == cpus
    tree = _tree(tmp_path / "tree", 250)
    huge = scan_tree(tree, workers=100_000)
    assert huge.workers == min(cpus, 250) and len(huge.files) == 250
    assert scan_tree(tree).workers == huge.workers
    assert scan_tree(tree, workers=1).workers == 1
    for bad in (0, -1, True):
        with pytest.raises(ValueError, match="workers"):
            scan_tree(tree, workers=bad)


# ---- call records and the router's window -------------------------------------------


def record(**fields):
    from attune.models import LLMCallRecord

    base = {
        "workflow": "docs",
        "stage": "write",
        "provider": "anthropic",
        "tier": "cheap",
        "model_id": "claude-haiku-4-5",
        "success": True,
    }
    return LLMCallRecord(**{**base, **fields})


def test_a_record_at_every_bound_is_accepted():
    from datetime import UTC, datetime, timedelta

    from attune.models.telemetry.records import MAX_COST, MAX_LATENCY_MS, MAX_TOKENS

    at_bounds = record(
        tokens_input=MAX_TOKENS,
        tokens_output=MAX_TOKENS,
        cost=MAX_COST,
        latency_ms=MAX_LATENCY_MS,
        timestamp=datetime.now(UTC) + timedelta(hours=23),
    )
    assert at_bounds.tokens_input == 1_000_000_000 and at_bounds.cost == 1_000_000
    assert record(timestamp=datetime(1970, 1, 1, tzinfo=UTC)).timestamp.year == 1970


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tokens_input", 1_000_000_001),
        ("tokens_input", 2**62),
        ("tokens_output", 2**63),
        ("tokens_output", True),
        ("cost", 1_000_000.01),
        ("cost", 1e308),
        ("latency_ms", 86_400_001),
        ("latency_ms", 1e308),
        ("success", 1),
        ("timestamp", 1e20),
        ("timestamp", -1e20),
    ],
)
def test_a_record_out_of_bounds_is_refused_at_construction_naming_the_field(field, value):
    with pytest.raises(ValueError, match=rf"LLMCallRecord\.{field}"):
        record(**{field: value})


def test_a_timestamp_more_than_a_day_ahead_is_refused():
    from datetime import UTC, datetime, timedelta

    ahead = datetime.now(UTC) + timedelta(days=1, minutes=5)
    with pytest.raises(ValueError, match=r"LLMCallRecord\.timestamp .* more than a day in the future"):
        record(timestamp=ahead)
    with pytest.raises(ValueError, match=r"LLMCallRecord\.timestamp"):
        record(timestamp=ahead.timestamp())


@pytest.mark.parametrize("days", [800_000, 36_500.5, math.inf, 0])
def test_the_router_refuses_a_window_it_cannot_compute(attune_home, days):
    from attune.models import AdaptiveModelRouter, get_telemetry_store

    store = get_telemetry_store()
    with pytest.raises(ValueError, match="window_days"):
        AdaptiveModelRouter(store, window_days=days)
    with pytest.raises(ValueError, match="days"):
        AdaptiveModelRouter(store).get_routing_stats("docs", days=days)
    assert AdaptiveModelRouter(store).get_routing_stats("docs", days=36_500)["total_calls"] == 0
