"""attune.models: auth strategy, module sizing, pricing, tasks, circuit breaker,
telemetry, adaptive routing and the Anthropic executor.

One subpackage per concept, imported in one direction (lower never imports higher):
``strategy``, ``loc``, ``pricing``; then ``breaker`` < ``telemetry`` < ``routing`` <
``llm``. ``_internal`` holds private helpers. ``auth_strategy``, ``adaptive_routing``
and ``auth_cli`` are the module paths the seed documents name, kept as re-exports.

Public names are loaded lazily (PEP 562) so that ``import attune.models`` stays
cheap: the CLI must answer in well under 300 ms, and nothing here may import
``anthropic`` or ``pygls`` until a caller actually needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> submodule that defines it. One place; __all__ is derived from it.
_EXPORTS: dict[str, str] = {
    # auth strategy
    "AuthStrategy": "strategy.model",
    "AuthMode": "strategy.model",
    "SubscriptionTier": "strategy.model",
    "Recommendation": "strategy.model",
    "AUTH_STRATEGY_FILE": "strategy.model",
    "StrategyFileError": "strategy.model",
    "get_auth_strategy": "strategy.model",
    "get_module_size_category": "strategy.model",
    "SUBSCRIPTION_CONTEXT_WINDOW": "strategy.model",
    "API_CONTEXT_WINDOW": "strategy.model",
    # lines of code
    "count_lines_of_code": "loc.counter",
    "analyze_file": "loc.counter",
    "analyze_text": "loc.counter",
    "LocError": "loc.counter",
    "LocResult": "loc.counter",
    "BinaryFileError": "loc.counter",
    "FileTooLargeError": "loc.counter",
    # registry and tasks
    "ModelInfo": "pricing.registry",
    "MODEL_REGISTRY": "pricing.registry",
    "get_model": "pricing.registry",
    "get_pricing_for_model": "pricing.registry",
    "TaskType": "pricing.tasks",
    "CHEAP_TASKS": "pricing.tasks",
    "CAPABLE_TASKS": "pricing.tasks",
    "PREMIUM_TASKS": "pricing.tasks",
    "REALTIME_REQUIRED_TASKS": "pricing.tasks",
    "TASK_TIER_MAP": "pricing.tasks",
    "get_tier_for_task": "pricing.tasks",
    "normalize_task_type": "pricing.tasks",
    # tasks: priced pipelines
    "TaskPipeline": "pricing.pipeline",
    "TaskStage": "pricing.pipeline",
    "TaskEstimate": "pricing.pipeline",
    "StageEstimate": "pricing.pipeline",
    "TASKS": "pricing.pipeline",
    "get_task": "pricing.pipeline",
    "task_names": "pricing.pipeline",
    "estimate_task": "strategy.estimates",
    # circuit breaker
    "CircuitBreaker": "breaker.circuit_breaker",
    "CircuitBreakerState": "breaker.rules",
    "get_circuit_breaker": "breaker.circuit_breaker",
    # telemetry
    "LLMCallRecord": "telemetry.records",
    "TelemetryBackend": "telemetry.records",
    "TelemetryStore": "telemetry.store",
    "get_telemetry_store": "telemetry.store",
    "get_telemetry_backend": "telemetry.backend",
    "SpendRow": "telemetry.records",
    "TelemetryStoreError": "telemetry.records",
    "RunRecord": "telemetry.runs",
    "RunStageRecord": "telemetry.runs",
    # router
    "AdaptiveModelRouter": "routing.router",
    "ModelPerformance": "routing.router",
    "RoutingDecision": "routing.router",
    # executor
    "LLMResponse": "llm.executor",
    "EmpathyLLMExecutor": "llm.executor",
    "count_tokens": "llm.executor",
    "acount_tokens": "llm.executor",
    "MissingAPIKeyError": "llm.executor",
    "CircuitOpenError": "llm.errors",
    "ProviderError": "llm.errors",
    "ResilientExecutor": "llm.resilient",
    "FallbackStrategy": "llm.resilient",
    "RetryPolicy": "llm.resilient",
    "AllProvidersFailedError": "llm.resilient",
    # task runs
    "run_task": "runs.runner",
    "arun_task": "runs.runner",
    "plan_run": "runs.runner",
    "execute_plan": "runs.runner",
    "RunPlan": "runs.runner",
    "RunProgress": "runs.runner",
    "RunResult": "runs.runner",
    "StageResult": "runs.runner",
    "RunError": "runs.runner",
    "ClaudeCodeError": "runs.claude_code",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'attune.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
