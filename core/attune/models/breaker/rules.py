"""What the circuit breaker stores per key and the rules that change it.

One key is ``provider`` or ``provider:tier``. A key's stored facts
(``CircuitBreakerState``) are plain numbers and wall-clock timestamps, so any process
that reads them derives the same state:

- CLOSED    ``opened_at`` is None.
- OPEN      ``opened_at`` is set and ``now < retry_at``.
- HALF_OPEN ``opened_at`` is set and ``now >= retry_at``; ``probes_granted`` counts the
            probe permits handed out in the current probe window.

The rules (``acquire``, ``on_success``, ``on_failure``) are pure functions of a state,
``now`` and a ``BreakerPolicy``. The memory and SQLite stores run them inside a lock /
an ``IMMEDIATE`` transaction; the Redis store runs the same rules as Lua scripts
(``stores.redis``) and the shared test-suite holds every store to them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


def breaker_key(provider: str, tier: str | None = None) -> str:
    """``provider`` or ``provider:tier``: the unit a breaker tracks."""
    if not isinstance(provider, str) or not provider.strip():
        raise ValueError("provider must be a non-empty string")
    if ":" in provider:
        raise ValueError(f"provider may not contain ':' (got {provider!r}); pass the tier separately")
    if tier is None or tier == "":
        return provider
    return f"{provider}:{tier}"


@dataclass(frozen=True)
class BreakerPolicy:
    """The thresholds of one ``CircuitBreaker`` instance (not stored: each process
    applies its own policy to the shared facts; the open duration is stored as
    ``retry_at`` when a breaker opens, so every reader agrees on when it ends)."""

    failure_threshold: int = 5
    recovery_timeout_seconds: float = 60.0
    half_open_calls: int = 1

    def __post_init__(self) -> None:
        if (
            isinstance(self.failure_threshold, bool)
            or not isinstance(self.failure_threshold, int)
            or self.failure_threshold < 1
        ):
            raise ValueError(f"failure_threshold must be an integer >= 1, got {self.failure_threshold!r}")
        timeout = self.recovery_timeout_seconds
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise ValueError(f"recovery_timeout_seconds must be a finite number > 0, got {timeout!r}")
        if (
            isinstance(self.half_open_calls, bool)
            or not isinstance(self.half_open_calls, int)
            or self.half_open_calls < 1
        ):
            raise ValueError(f"half_open_calls must be an integer >= 1, got {self.half_open_calls!r}")


def iso_utc(ts: float | None) -> str | None:
    """Seconds since the epoch -> ISO 8601 in UTC (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class CircuitBreakerState:
    """The stored facts of one breaker key. Timestamps are seconds since the epoch."""

    key: str
    failure_count: int = 0
    opened_at: float | None = None
    retry_at: float | None = None
    last_failure: float | None = None
    last_error_type: str | None = None
    probes_granted: int = 0
    probe_window_start: float | None = None

    @property
    def is_open(self) -> bool:
        """Tripped and not yet closed by a success (OPEN or HALF_OPEN)."""
        return self.opened_at is not None

    def state(self, now: float) -> str:
        if self.opened_at is None:
            return CLOSED
        if self.retry_at is None or now < self.retry_at:
            return OPEN
        return HALF_OPEN

    def to_status(self, now: float) -> dict[str, Any]:
        """The ``get_status()`` entry for this key (JSON-ready)."""
        return {
            "state": self.state(now),
            "failure_count": self.failure_count,
            "is_open": self.is_open,
            "last_failure": iso_utc(self.last_failure),
            "opened_at": iso_utc(self.opened_at),
            "retry_at": iso_utc(self.retry_at),
            "last_error_type": self.last_error_type,
        }


# --- the rules: (state or None, now, policy) -> (result, new state or None if unchanged)


def acquire(
    s: CircuitBreakerState | None, now: float, policy: BreakerPolicy
) -> tuple[bool, CircuitBreakerState | None]:
    """May a call go to this key now? In HALF_OPEN this consumes a probe permit."""
    if s is None or s.opened_at is None:
        return True, None
    if s.state(now) == OPEN:
        return False, None
    granted = s.probes_granted
    if (
        granted >= policy.half_open_calls
        and s.probe_window_start is not None
        and now >= s.probe_window_start + policy.recovery_timeout_seconds
    ):
        # The probes never reported back (caller crashed or forgot): without a new
        # window the key would stay half-open with no permits forever.
        granted = 0
    if granted >= policy.half_open_calls:
        return False, None
    window_start = now if granted == 0 else s.probe_window_start
    return True, replace(s, probes_granted=granted + 1, probe_window_start=window_start)


def on_success(
    s: CircuitBreakerState | None, now: float, policy: BreakerPolicy | None = None
) -> tuple[None, CircuitBreakerState | None]:
    """Any success closes the breaker and clears the count: the provider answered."""
    if s is None or (s.failure_count == 0 and s.opened_at is None):
        return None, None
    return None, replace(s, failure_count=0, opened_at=None, retry_at=None, probes_granted=0, probe_window_start=None)


def on_failure(
    s: CircuitBreakerState | None, now: float, policy: BreakerPolicy, error_type: str | None = None, *, key: str = ""
) -> tuple[None, CircuitBreakerState]:
    """Count a failure. CLOSED opens at the threshold; a failure in HALF_OPEN (the probe)
    reopens for a full timeout; a late failure while OPEN does not extend the timeout."""
    if s is None:
        s = CircuitBreakerState(key=key)
    count = s.failure_count + 1
    state = s.state(now)
    reopen = (state == CLOSED and count >= policy.failure_threshold) or state == HALF_OPEN
    new = replace(s, failure_count=count, last_failure=now, last_error_type=error_type)
    if reopen:
        new = replace(
            new,
            opened_at=now,
            retry_at=now + policy.recovery_timeout_seconds,
            probes_granted=0,
            probe_window_start=None,
        )
    return None, new
