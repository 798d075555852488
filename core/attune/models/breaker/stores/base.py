"""The store interface every breaker store implements, and the shared rule runner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar, runtime_checkable

from attune.models.breaker.rules import BreakerPolicy, CircuitBreakerState, acquire, on_failure, on_success

T = TypeVar("T")

# A rule run inside a store's transaction: the key's current state (None if none)
# -> (result for the caller, new state to write or None to leave it).
Rule = Callable[[CircuitBreakerState | None], tuple[T, CircuitBreakerState | None]]


class BreakerStoreUnavailable(Exception):
    """The store cannot be reached or used right now (Redis down, SQLite locked/full).

    ``CircuitBreaker`` catches it and degrades to a process-local breaker; it never
    reaches the breaker's callers."""


def key_matches(key: str, target: str | None, include_tiers: bool) -> bool:
    if target is None:
        return True
    return key == target or (include_tiers and key.startswith(target + ":"))


@runtime_checkable
class BreakerStore(Protocol):
    """Where breaker state lives. Every method may raise ``BreakerStoreUnavailable``."""

    url: str  # for humans and logs: never contains a password

    def acquire(self, key: str, now: float, policy: BreakerPolicy) -> bool: ...
    def record_success(self, key: str, now: float) -> None: ...
    def record_failure(self, key: str, now: float, policy: BreakerPolicy, error_type: str | None) -> None: ...
    def get(self, key: str) -> CircuitBreakerState | None: ...
    def get_all(self) -> dict[str, CircuitBreakerState]: ...
    def reset(self, key: str | None = None, include_tiers: bool = False) -> list[str]:
        """Delete ``key`` (and ``key:*`` with include_tiers), or every key when None.
        Returns the keys that were deleted, sorted."""
        ...

    def change_token(self) -> str | int: ...
    def close(self) -> None: ...


class TransactionalStore:
    """The rules on top of one primitive: ``transact(key, rule)`` runs ``rule`` on the
    key's current state atomically and writes the new state if the rule returns one.

    Reads that change nothing (a CLOSED ``is_available``, a success on a clean key) are
    answered from a plain read first: that is a valid moment for the operation to take
    effect, and it keeps the hot path off the write lock."""

    url: str

    def transact(self, key: str, rule: Rule[T]) -> T:
        raise NotImplementedError

    def get(self, key: str) -> CircuitBreakerState | None:
        raise NotImplementedError

    def _apply(self, key: str, rule: Rule[T]) -> T:
        result, new = rule(self.get(key))
        if new is None:
            return result
        return self.transact(key, rule)

    def acquire(self, key: str, now: float, policy: BreakerPolicy) -> bool:
        return self._apply(key, lambda s: acquire(s, now, policy))

    def record_success(self, key: str, now: float) -> None:
        self._apply(key, lambda s: on_success(s, now))

    def record_failure(self, key: str, now: float, policy: BreakerPolicy, error_type: str | None) -> None:
        self.transact(key, lambda s: on_failure(s, now, policy, error_type, key=key))
