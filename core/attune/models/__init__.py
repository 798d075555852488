"""attune.models: auth strategy, module sizing, pricing, tasks, circuit breaker,
telemetry, adaptive routing and the Anthropic executor.

Public names are loaded lazily (PEP 562) so that ``import attune.models`` stays
cheap: the CLI must answer in well under 300 ms, and nothing here may import
``anthropic`` or ``pygls`` until a caller actually needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> submodule that defines it. One place; __all__ is derived from it.
_EXPORTS: dict[str, str] = {
    # auth strategy (issue 2)
    "AuthStrategy": "auth_strategy",
    "AuthMode": "auth_strategy",
    "SubscriptionTier": "auth_strategy",
    "Recommendation": "auth_strategy",
    "AUTH_STRATEGY_FILE": "auth_strategy",
    "StrategyFileError": "auth_strategy",
    "get_auth_strategy": "auth_strategy",
    "get_module_size_category": "auth_strategy",
    "SUBSCRIPTION_CONTEXT_WINDOW": "auth_strategy",
    "API_CONTEXT_WINDOW": "auth_strategy",
    # lines of code (issue 2)
    "count_lines_of_code": "loc",
    "analyze_file": "loc",
    "analyze_text": "loc",
    "LocError": "loc",
    "LocResult": "loc",
    "BinaryFileError": "loc",
    "FileTooLargeError": "loc",
    # registry and tasks (issue 2)
    "ModelInfo": "registry",
    "MODEL_REGISTRY": "registry",
    "get_model": "registry",
    "get_pricing_for_model": "registry",
    "TaskType": "tasks",
    "CHEAP_TASKS": "tasks",
    "CAPABLE_TASKS": "tasks",
    "PREMIUM_TASKS": "tasks",
    "REALTIME_REQUIRED_TASKS": "tasks",
    "TASK_TIER_MAP": "tasks",
    "get_tier_for_task": "tasks",
    "normalize_task_type": "tasks",
    # circuit breaker (issue 3)
    "CircuitBreaker": "circuit_breaker",
    "CircuitBreakerState": "circuit_breaker",
    "get_circuit_breaker": "circuit_breaker",
    # telemetry (issue 3)
    "LLMCallRecord": "telemetry",
    "TelemetryBackend": "telemetry",
    "TelemetryStore": "telemetry",
    "get_telemetry_store": "telemetry",
    "TelemetryStoreError": "telemetry",
    # router (issue 3)
    "AdaptiveModelRouter": "adaptive_routing",
    "ModelPerformance": "adaptive_routing",
    "RoutingDecision": "adaptive_routing",
    # executor (issue 3)
    "LLMResponse": "executor",
    "EmpathyLLMExecutor": "executor",
    "count_tokens": "executor",
    "acount_tokens": "executor",
    "MissingAPIKeyError": "executor",
    "CircuitOpenError": "executor",
    "ProviderError": "executor",
    "ResilientExecutor": "resilient_executor",
    "FallbackStrategy": "resilient_executor",
    "RetryPolicy": "resilient_executor",
    "AllProvidersFailedError": "resilient_executor",
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
