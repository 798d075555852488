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
    failing later inside a store."""

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
    ) -> None:
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
        for name, number in (("latency_ms", latency_ms), ("cost", cost)):
            if (
                isinstance(number, bool)
                or not isinstance(number, (int, float))
                or not math.isfinite(number)
                or number < 0
            ):
                raise ValueError(f"LLMCallRecord.{name} must be a finite number >= 0, got {number!r}")
        for name, count in (("tokens_input", tokens_input), ("tokens_output", tokens_output)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"LLMCallRecord.{name} must be an integer >= 0, got {count!r}")
        self.workflow, self.stage, self.task_type = workflow, stage, task_type
        self.provider, self.tier, self.model_id = provider, tier, model_id
        self.success, self.error_type = success, error_type
        self.latency_ms, self.cost = latency_ms, cost
        self.tokens_input, self.tokens_output = tokens_input, tokens_output
        self.timestamp = _aware_timestamp(timestamp)


def _aware_timestamp(value: datetime | float | None) -> datetime:
    if value is None:
        return utc_now()
    if isinstance(value, datetime):
        try:
            to_epoch_ms(value)
        except ValueError as exc:
            raise ValueError(f"LLMCallRecord.{exc}") from None
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return datetime.fromtimestamp(value, tz=UTC)
    raise ValueError(f"LLMCallRecord.timestamp must be an aware datetime or epoch seconds, got {value!r}")


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


@runtime_checkable
class TelemetryBackend(Protocol):
    """What the executor writes to and the router reads from."""

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
