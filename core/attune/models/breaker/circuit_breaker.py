"""A circuit breaker per LLM provider (or ``provider:tier``), shared across processes.

    cb = CircuitBreaker()                              # process-local (memory://)
    cb = CircuitBreaker(store="sqlite:////home/me/.local/state/attune/breaker.db")
    cb = get_circuit_breaker()                         # what the CLI, server and executor share
    cb = get_circuit_breaker(read_only=True)           # for status displays: creates no file

    if cb.is_available("anthropic", "premium"):
        try:
            ...call the provider...
            cb.record_success("anthropic", "premium")
        except ProviderDown as exc:
            cb.record_failure("anthropic", "premium", error_type="server")

States: CLOSED -> OPEN after ``failure_threshold`` consecutive failures; OPEN -> HALF_OPEN
once ``recovery_timeout_seconds`` have passed; in HALF_OPEN exactly ``half_open_calls``
callers get True from ``is_available`` (a probe permit); a success closes the breaker
and clears the count; a failure in HALF_OPEN reopens it for a full timeout. A probe that
never reports back frees its permit after another ``recovery_timeout_seconds``.
``peek_state`` reads the state without taking a permit (for routers and status).

The clock is wall-clock seconds (``time.time``) because the state is shared: other
processes, a restarted process and other machines (Redis) must read the same
``opened_at``/``retry_at``; a monotonic clock has a per-boot origin and means nothing
outside the machine and boot that produced it. A clock step backwards can make a
breaker stay open longer by the size of the step.

A store that fails (Redis down, SQLite locked past its busy timeout, disk full) never
raises into callers. The breaker logs a WARNING (once, then at most once a minute),
and until the store answers again it runs on a process-local memory store with the
same policy: calls are allowed unless this process itself trips a breaker. In other
words it fails open for the shared state, while this process still protects itself.
``store_health()`` says whether the store is reachable; ``change_token()`` changes when
it goes down or comes back.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from attune.models._internal.urls import redact_url
from attune.models.breaker.rules import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    BreakerPolicy,
    CircuitBreakerState,
    breaker_key,
    iso_utc,
)
from attune.models.breaker.stores import BreakerStore, BreakerStoreUnavailable, open_store
from attune.models.breaker.stores.memory import MemoryBreakerStore

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

logger = logging.getLogger(__name__)

T = TypeVar("T")

BREAKER_URL_ENV = "ATTUNE_BREAKER_URL"
_WARN_EVERY_SECONDS = 60.0


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_timeout_seconds: float = 60,
        half_open_calls: int = 1,
        store: str | BreakerStore | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.policy = BreakerPolicy(failure_threshold, recovery_timeout_seconds, half_open_calls)
        if store is None:
            store = MemoryBreakerStore()
        elif isinstance(store, str):
            store = open_store(store)
        self.store: BreakerStore = store
        self.clock: Callable[[], float] = clock or time.time
        # Degraded mode: used only while the store is unavailable.
        self._fallback = MemoryBreakerStore()
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._down_error = ""
        self._last_warning = 0.0

    # --- the policy's numbers, under the names the seeds use
    @property
    def failure_threshold(self) -> int:
        return self.policy.failure_threshold

    @property
    def recovery_timeout_seconds(self) -> float:
        return self.policy.recovery_timeout_seconds

    @property
    def half_open_calls(self) -> int:
        return self.policy.half_open_calls

    # --- public API

    def is_available(self, provider: str, tier: str | None = None) -> bool:
        """May a call go to ``provider`` (``provider:tier``) now? In HALF_OPEN this takes
        one of the ``half_open_calls`` probe permits: call it only when you will call
        the provider and report the outcome."""
        key = breaker_key(provider, tier)
        now = self.clock()
        return self._use(lambda store: store.acquire(key, now, self.policy))

    def peek_state(self, provider: str, tier: str | None = None) -> str:
        """ "closed" | "open" | "half_open", without side effects (no permit taken)."""
        key = breaker_key(provider, tier)
        state = self._use(lambda store: store.get(key))
        return state.state(self.clock()) if state is not None else CLOSED

    def get_state(self, provider: str, tier: str | None = None) -> CircuitBreakerState:
        """The stored facts of one key (a fresh CLOSED state when nothing is stored)."""
        key = breaker_key(provider, tier)
        return self._use(lambda store: store.get(key)) or CircuitBreakerState(key=key)

    def record_success(self, provider: str, tier: str | None = None) -> None:
        key = breaker_key(provider, tier)
        now = self.clock()
        self._use(lambda store: store.record_success(key, now))

    def record_failure(self, provider: str, tier: str | None = None, error_type: str | None = None) -> None:
        key = breaker_key(provider, tier)
        now = self.clock()
        error_type = error_type or None
        self._use(lambda store: store.record_failure(key, now, self.policy, error_type))

    def reset(self, provider: str | None = None, tier: str | None = None) -> list[str]:
        """Forget breaker state, returning the keys that were reset (sorted).

        - ``reset()``: every key.
        - ``reset("anthropic")``: ``anthropic`` and every ``anthropic:<tier>`` key, because
          "reset one provider" means all of its tiers.
        - ``reset("anthropic", "premium")``: only ``anthropic:premium``.
        """
        if provider is None:
            if tier is not None:
                raise ValueError("reset(tier=...) needs a provider")
            key, include_tiers = None, False
        else:
            key = breaker_key(provider, tier)
            include_tiers = tier is None
        return self._use(lambda store: store.reset(key, include_tiers))

    def get_status(self) -> dict[str, dict[str, Any]]:
        """``{key: {"state", "failure_count", "is_open", "last_failure", "opened_at",
        "retry_at", "last_error_type"}}`` with ISO 8601 UTC timestamps (None when unset).
        While the store is unreachable this is the process-local state; check
        ``store_health()`` to tell the two apart."""
        states = self._use(lambda store: store.get_all())
        now = self.clock()
        return {key: s.to_status(now) for key, s in sorted(states.items())}

    def change_token(self) -> str | int:
        """Changes whenever any breaker state in the store changes, in any process
        (one cheap query). Also changes when the store goes down or comes back."""
        try:
            token = self.store.change_token()
        except BreakerStoreUnavailable as exc:
            self._note_down(exc)
            return f"unavailable:{self._fallback.change_token()}"
        self._note_up()
        return token

    def store_health(self) -> dict[str, Any]:
        """``{"url", "reachable", "error", "down_since"}`` for status displays. Probes the
        store (one cheap query) so the answer is current."""
        self.change_token()
        with self._lock:
            down_since = self._down_since
            return {
                "url": redact_url(self.store.url),
                "reachable": down_since is None,
                "error": self._down_error or None,
                "down_since": iso_utc(down_since),
            }

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> CircuitBreaker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        p = self.policy
        return (
            f"CircuitBreaker(failure_threshold={p.failure_threshold}, "
            f"recovery_timeout_seconds={p.recovery_timeout_seconds}, "
            f"half_open_calls={p.half_open_calls}, store={redact_url(self.store.url)!r})"
        )

    # --- degraded mode

    def _use(self, op: Callable[[BreakerStore], T]) -> T:
        try:
            result = op(self.store)
        except BreakerStoreUnavailable as exc:
            self._note_down(exc)
            return op(self._fallback)
        if self._down_since is not None:
            self._note_up()
        return result

    def _note_down(self, exc: BreakerStoreUnavailable) -> None:
        now = time.time()
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = now
            self._down_error = str(exc)
            warn = first or now - self._last_warning >= _WARN_EVERY_SECONDS
            if warn:
                self._last_warning = now
        if warn:
            logger.warning(
                "circuit breaker store %s is unavailable (%s); %s",
                redact_url(self.store.url),
                exc,
                "using a process-local breaker until it answers again"
                if first
                else "still using a process-local breaker",
            )
        else:
            logger.debug("circuit breaker store still unavailable: %s", exc)

    def _note_up(self) -> None:
        with self._lock:
            if self._down_since is None:
                return
            down_for = time.time() - self._down_since
            self._down_since, self._down_error = None, ""
            self._fallback = MemoryBreakerStore()  # local state from the outage is stale now
        logger.warning("circuit breaker store %s is available again after %.0f s", redact_url(self.store.url), down_for)


# --- the shared breaker

_shared: dict[tuple[str, bool], CircuitBreaker] = {}
_shared_lock = threading.Lock()


def default_store_url() -> str:
    """``ATTUNE_BREAKER_URL`` if set, else SQLite at ``paths.breaker_db_path()``
    (``sqlite:////abs/path/breaker.db``: SQLAlchemy's form of an absolute path)."""
    url = os.environ.get(BREAKER_URL_ENV, "").strip()
    if url:
        return url
    from attune.models._internal import paths

    return f"sqlite:///{paths.breaker_db_path().resolve()}"


def get_circuit_breaker(*, read_only: bool = False) -> CircuitBreaker:
    """The breaker the CLI, the language server and the executor share: one per process
    and store URL (so a test that changes ``ATTUNE_HOME`` gets a new one). Raises
    ValueError naming ``ATTUNE_BREAKER_URL`` when that variable holds a bad URL.

    ``read_only=True`` is for displays (``attune breaker status``, ``attune routing``):
    a SQLite store is read without creating its file or folder (no file: every breaker
    closed), and recording outcomes through it is not possible."""
    url = default_store_url()
    with _shared_lock:
        breaker = _shared.get((url, read_only))
        if breaker is None:
            try:
                breaker = CircuitBreaker(store=open_store(url, read_only=read_only))
            except ValueError as exc:
                if os.environ.get(BREAKER_URL_ENV, "").strip():
                    raise ValueError(f"{BREAKER_URL_ENV}: {exc}") from exc
                raise
            _shared[(url, read_only)] = breaker
        return breaker
