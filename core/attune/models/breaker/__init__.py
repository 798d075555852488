"""The circuit breaker (``circuit_breaker``), its pure state rules (``rules``) and the
stores that share its state across processes and machines (``stores``). The package
exports ``circuit_breaker``'s public names."""

from attune.models.breaker.circuit_breaker import *  # noqa: F403
from attune.models.breaker.circuit_breaker import __all__ as __all__
