"""The circuit breaker (``circuit_breaker``), its pure state rules (``rules``) and the
stores that share its state across processes and machines (``stores``)."""

from attune.models.breaker.circuit_breaker import (
    BREAKER_URL_ENV,
    CircuitBreaker,
    default_store_url,
    get_circuit_breaker,
)
from attune.models.breaker.rules import CLOSED, HALF_OPEN, OPEN, BreakerPolicy, CircuitBreakerState, breaker_key

__all__ = [
    "BREAKER_URL_ENV",
    "CLOSED",
    "HALF_OPEN",
    "OPEN",
    "BreakerPolicy",
    "CircuitBreaker",
    "CircuitBreakerState",
    "breaker_key",
    "default_store_url",
    "get_circuit_breaker",
]
