"""Calls to Claude: the executor over the official ``anthropic`` SDK (``executor``),
retries and fallbacks around it (``resilient``) and how provider errors are classified
(``errors``)."""

from attune.models.llm.errors import CircuitOpenError, ProviderError
from attune.models.llm.executor import EmpathyLLMExecutor, LLMResponse, MissingAPIKeyError, acount_tokens, count_tokens
from attune.models.llm.resilient import AllProvidersFailedError, FallbackStrategy, ResilientExecutor, RetryPolicy

__all__ = [
    "AllProvidersFailedError",
    "CircuitOpenError",
    "EmpathyLLMExecutor",
    "FallbackStrategy",
    "LLMResponse",
    "MissingAPIKeyError",
    "ProviderError",
    "ResilientExecutor",
    "RetryPolicy",
    "acount_tokens",
    "count_tokens",
]
