"""The model registry, prices and the task -> tier map."""

from __future__ import annotations

from attune.models import (
    CAPABLE_TASKS,
    CHEAP_TASKS,
    MODEL_REGISTRY,
    PREMIUM_TASKS,
    REALTIME_REQUIRED_TASKS,
    TASK_TIER_MAP,
    TaskType,
    get_model,
    get_pricing_for_model,
    get_tier_for_task,
    normalize_task_type,
)


def test_default_prices_are_anthropics_published_ones():
    assert get_pricing_for_model("claude-haiku-4-5") == {"input": 1.0, "output": 5.0}
    assert get_pricing_for_model(get_model("anthropic", "capable").id) == {"input": 3.0, "output": 15.0}
    assert get_pricing_for_model(get_model("anthropic", "premium").id) == {"input": 5.0, "output": 25.0}
    assert get_pricing_for_model("no-such-model") is None
    assert get_model("anthropic", "ultra") is None and get_model("nobody", "cheap") is None
    assert set(MODEL_REGISTRY["anthropic"]) == {"cheap", "capable", "premium"}


def test_model_cost_formula():
    haiku = get_model("anthropic", "cheap")
    assert haiku.cost(1_000_000, 1_000_000) == 6.0


def test_task_sets_are_disjoint_and_mapped():
    assert not (CHEAP_TASKS & CAPABLE_TASKS or CAPABLE_TASKS & PREMIUM_TASKS or CHEAP_TASKS & PREMIUM_TASKS)
    assert {"chat", "live_coding", "security_incident", "emergency_response"} == REALTIME_REQUIRED_TASKS
    assert all(TASK_TIER_MAP[t] == "cheap" for t in CHEAP_TASKS)
    assert all(TASK_TIER_MAP[t] == "premium" for t in PREMIUM_TASKS)
    assert set(TASK_TIER_MAP) == {t.value for t in TaskType}


def test_normalize_and_tier_lookup():
    assert normalize_task_type(" Fix-Bug ") == normalize_task_type("fix bug") == "fix_bug"
    assert normalize_task_type(TaskType.SUMMARIZE) == "summarize"
    assert get_tier_for_task("summarize") == "cheap"
    assert get_tier_for_task(TaskType.ARCHITECTURAL_DECISION) == "premium"
    assert get_tier_for_task("something new") == "capable"
