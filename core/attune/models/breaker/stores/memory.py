"""Process-local breaker state behind one lock."""

from __future__ import annotations

import threading

from attune.models.breaker.rules import CircuitBreakerState
from attune.models.breaker.stores.base import Rule, T, TransactionalStore, key_matches


class MemoryBreakerStore(TransactionalStore):
    """Process-local state behind one lock (the default for a bare ``CircuitBreaker()``)."""

    def __init__(self) -> None:
        self.url = "memory://"
        self._lock = threading.Lock()
        self._states: dict[str, CircuitBreakerState] = {}
        self._version = 0

    def transact(self, key: str, rule: Rule[T]) -> T:
        with self._lock:
            result, new = rule(self._states.get(key))
            if new is not None:
                self._states[key] = new
                self._version += 1
            return result

    def _apply(self, key: str, rule: Rule[T]) -> T:
        return self.transact(key, rule)  # the lock is already cheap

    def get(self, key: str) -> CircuitBreakerState | None:
        with self._lock:
            return self._states.get(key)

    def get_all(self) -> dict[str, CircuitBreakerState]:
        with self._lock:
            return dict(self._states)

    def reset(self, key: str | None = None, include_tiers: bool = False) -> list[str]:
        with self._lock:
            gone = sorted(k for k in self._states if key_matches(k, key, include_tiers))
            for k in gone:
                del self._states[k]
            if gone:
                self._version += 1
            return gone

    def change_token(self) -> int:
        with self._lock:
            return self._version

    def close(self) -> None:
        pass
