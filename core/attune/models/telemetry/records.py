"""What telemetry holds: one record per LLM call, the per-model aggregates the
router reads, and the protocol every telemetry backend implements."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from attune.models.errors import AttuneError


class TelemetryStoreError(AttuneError):
    """The telemetry file cannot be used (not a database, unreadable, newer schema)."""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The bounds of a call record (docs/limits.md). Far above any real call, and low
# enough that the store's sums stay exact 64-bit integers (the tokens of billions of
# calls) and finite floats, so a stored record never fails an insert or a report.
MAX_TOKENS = 1_000_000_000  # per call, input and output each: 1,000 times a 1M context
MAX_COST = 1_000_000.0  # dollars per call
MAX_LATENCY_MS = 86_400_000.0  # one day
MAX_FUTURE = timedelta(days=1)  # clocks disagree a little; a timestamp further ahead is a mistake


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_epoch_ms(moment: datetime) -> int:
    """An aware datetime -> integer milliseconds since the epoch (exact, no float)."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(
            f"timestamp {moment.isoformat()} has no timezone; pass an aware datetime "
            "(e.g. datetime.now(timezone.utc)) so it cannot be read as local time by mistake"
        )
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def from_epoch_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


@dataclass(init=False)
class LLMCallRecord:
    """One LLM call as the router sees it. ``cost`` is dollars; ``timestamp`` is an
    aware ``datetime`` (epoch seconds are accepted and read as UTC).

    ``task_type`` may be left out ("unknown"), so its place among the positional
    fields is kept and the fields after it are checked as required: a record built
    without ``provider`` or ``success`` is refused here, naming the field, rather than
    failing later inside a store. Numbers are bounded (``MAX_TOKENS``, ``MAX_COST``,
    ``MAX_LATENCY_MS``) and a timestamp may be at most ``MAX_FUTURE`` ahead of now.
    A record read back from a store is built by ``from_stored``, which checks nothing
    again. ``run_id`` (keyword, optional) links the call to a task run
    (``TelemetryStore.start_run``). ``user`` and ``machine`` (keyword) say who made
    the call and where, for a team's spend; they default to this process's
    (``identity``) and are checked to hold no secret."""

    workflow: str
    stage: str
    task_type: str
    provider: str
    tier: str
    model_id: str
    success: bool
    error_type: str | None
    latency_ms: float
    tokens_input: int
    tokens_output: int
    cost: float
    timestamp: datetime
    run_id: str | None
    user: str
    machine: str

    def __init__(
        self,
        workflow: str,
        stage: str,
        task_type: str = "unknown",
        provider: str = "",
        tier: str = "",
        model_id: str = "",
        success: bool | None = None,
        error_type: str | None = None,
        latency_ms: float = 0.0,
        tokens_input: int = 0,
        tokens_output: int = 0,
        cost: float = 0.0,
        timestamp: datetime | float | None = None,
        run_id: str | None = None,
        *,
        user: str | None = None,
        machine: str | None = None,
    ) -> None:
        from attune.models.telemetry import identity

        for name, text in (
            ("workflow", workflow),
            ("stage", stage),
            ("provider", provider),
            ("tier", tier),
            ("model_id", model_id),
        ):
            if not isinstance(text, str) or not text:
                raise ValueError(f"LLMCallRecord.{name} must be a non-empty string, got {text!r}")
        if not isinstance(task_type, str):
            raise ValueError(f"LLMCallRecord.task_type must be a string, got {task_type!r}")
        if not isinstance(success, bool):
            raise ValueError(f"LLMCallRecord.success must be True or False, got {success!r}")
        if error_type is not None and not isinstance(error_type, str):
            raise ValueError(f"LLMCallRecord.error_type must be a string or None, got {error_type!r}")
        for name, number, most in (("latency_ms", latency_ms, MAX_LATENCY_MS), ("cost", cost, MAX_COST)):
            if (
                isinstance(number, bool)
                or not isinstance(number, (int, float))
                or not math.isfinite(number)
                or not 0 <= number <= most
            ):
                raise ValueError(f"LLMCallRecord.{name} must be a number from 0 to {most:,.0f}, got {number!r}")
        for name, count in (("tokens_input", tokens_input), ("tokens_output", tokens_output)):
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_TOKENS:
                raise ValueError(f"LLMCallRecord.{name} must be an integer from 0 to {MAX_TOKENS:,}, got {count!r}")
        self.workflow, self.stage, self.task_type = workflow, stage, task_type
        self.provider, self.tier, self.model_id = provider, tier, model_id
        self.success, self.error_type = success, error_type
        self.latency_ms, self.cost = latency_ms, cost
        self.tokens_input, self.tokens_output = tokens_input, tokens_output
        self.timestamp = _aware_timestamp(timestamp)
        if run_id is not None and (not isinstance(run_id, str) or not run_id or len(run_id) > 64):
            raise ValueError(f"LLMCallRecord.run_id must be None or a run id (1 to 64 characters), got {run_id!r}")
        self.run_id = run_id
        self.user = identity.current_user() if user is None else identity.checked_name("user", user)
        self.machine = identity.current_machine() if machine is None else identity.checked_name("machine", machine)

    @classmethod
    def from_stored(
        cls,
        *,
        workflow: str,
        stage: str,
        task_type: str,
        provider: str,
        tier: str,
        model_id: str,
        success: bool,
        error_type: str | None,
        latency_ms: float,
        tokens_input: int,
        tokens_output: int,
        cost: float,
        timestamp: datetime,
        run_id: str | None = None,
        user: str = "",
        machine: str = "",
    ) -> LLMCallRecord:
        """A record read back from a store. It was checked when it was written and is
        not checked again: a clock set back since, or a row an older version wrote,
        must not make the calls already stored unreadable."""
        record = cls.__new__(cls)
        record.workflow, record.stage, record.task_type = workflow, stage, task_type
        record.provider, record.tier, record.model_id = provider, tier, model_id
        record.success, record.error_type = success, error_type
        record.latency_ms, record.cost = latency_ms, cost
        record.tokens_input, record.tokens_output = tokens_input, tokens_output
        record.timestamp = timestamp
        record.run_id = run_id
        record.user, record.machine = user, machine
        return record


def _aware_timestamp(value: datetime | float | None) -> datetime:
    if value is None:
        return utc_now()
    if isinstance(value, datetime):
        try:
            to_epoch_ms(value)
        except ValueError as exc:
            raise ValueError(f"LLMCallRecord.{exc}") from None
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        try:
            moment = datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"LLMCallRecord.timestamp is out of range as epoch seconds, got {value!r}") from None
    else:
        raise ValueError(f"LLMCallRecord.timestamp must be an aware datetime or epoch seconds, got {value!r}")
    latest = utc_now() + MAX_FUTURE
    if moment > latest:
        raise ValueError(
            f"LLMCallRecord.timestamp {moment.isoformat()} is more than a day in the future "
            f"(latest accepted now: {latest.isoformat(timespec='seconds')}); is a clock wrong?"
        )
    return moment


@dataclass(frozen=True)
class ModelAggregate:
    """What a window of calls says about one model (in one workflow, maybe one stage)."""

    model_id: str
    provider: str
    tier: str
    calls: int
    successes: int
    latency_ms_sum: float
    cost_sum: float
    tokens_input_sum: int
    tokens_output_sum: int

    @property
    def failures(self) -> int:
        return self.calls - self.successes

    @property
    def success_rate(self) -> float:
        return self.successes / self.calls if self.calls else 0.0

    @property
    def avg_latency_ms(self) -> float:
        return self.latency_ms_sum / self.calls if self.calls else 0.0

    @property
    def avg_cost(self) -> float:
        return self.cost_sum / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class SpendRow:
    """What one user, model, day, workflow or task type cost over a window."""

    key: str
    calls: int
    failures: int
    tokens_input: int
    tokens_output: int
    cost: float


@runtime_checkable
class TelemetryBackend(Protocol):
    """What the executor writes to, the router reads from and ``attune spend`` sums.
    The SQLite store, the PostgreSQL store and the outbox in front of PostgreSQL all
    implement it (and pass one test suite)."""

    @property
    def closed(self) -> bool: ...

    def close(self) -> None: ...

    def record_call(self, record: LLMCallRecord) -> None: ...

    def record_calls(self, records: Iterable[LLMCallRecord]) -> int: ...

    def recent_calls(
        self,
        workflow: str | None = None,
        stage: str | None = None,
        *,
        model_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[LLMCallRecord]: ...

    def aggregate_by_model(
        self,
        workflow: str,
        stage: str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[ModelAggregate]: ...

    def workflows(
        self, *, since: datetime | None = None, until: datetime | None = None, limit: int = 100
    ) -> list[tuple[str, int]]: ...

    def spend(
        self, by: str, *, since: datetime | None = None, until: datetime | None = None, limit: int = ...
    ) -> list[SpendRow]: ...

    def prune(self, older_than_days: float) -> int: ...
