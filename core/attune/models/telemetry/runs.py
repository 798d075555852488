"""What the runs store holds: one ``RunRecord`` per task run over one file, with a
``RunStageRecord`` per stage, each carrying the estimate made before the run and
what the run actually used.

Dollars are compared as API-equivalent dollars in both modes (a subscription run
costs $0 but its tokens have an API price), so a run's error says how far the
estimate was from the tokens really spent: ``error_pct = (actual - estimate) /
estimate x 100``, None while nothing is measured or when the estimate is $0. A
run's error is taken over the stages that ran, so a run that failed halfway is
compared with the estimate of the stages it got through.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

RUN_STATUSES = ("running", "ok", "failed", "cancelled")
STAGE_STATUSES = ("pending", "ok", "failed", "cancelled")


def error_pct(estimate: float | None, actual: float | None) -> float | None:
    """(actual - estimate) / estimate in percent; None without both or with a 0 estimate."""
    if estimate is None or actual is None or estimate <= 0:
        return None
    return (actual - estimate) / estimate * 100.0


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class RunStageRecord:
    """One stage of a run. The ``estimated_*`` fields come from the estimate (None for
    a stage the estimate did not have); the actual ones stay None until the stage is
    recorded (``status`` "pending" until then). ``cost`` is the dollars charged (0 on
    a subscription), ``api_equivalent_cost`` what the same tokens cost on the API."""

    index: int
    stage: str
    model: str
    status: str
    estimated_input_tokens: int | None
    estimated_output_tokens: int | None
    estimated_cost: float | None
    estimated_api_cost: float | None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_tokens: int | None = None
    cost: float | None = None
    api_equivalent_cost: float | None = None
    elapsed_ms: float | None = None
    stop_reason: str | None = None  # "max_tokens": the reply was cut at the limit asked for

    @property
    def error_pct(self) -> float | None:
        return error_pct(self.estimated_api_cost, self.api_equivalent_cost)

    def to_dict(self) -> dict[str, Any]:
        error = self.error_pct
        return {
            "index": self.index,
            "stage": self.stage,
            "model": self.model,
            "status": self.status,
            "estimate": {
                "input_tokens": self.estimated_input_tokens,
                "output_tokens": self.estimated_output_tokens,
                "cost": _round(self.estimated_cost),
                "api_cost": _round(self.estimated_api_cost),
            },
            "actual": {
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "cache_tokens": self.cache_tokens,
                "cost": _round(self.cost),
                "api_equivalent_cost": _round(self.api_equivalent_cost),
                "elapsed_ms": _round(self.elapsed_ms, 1),
                "stop_reason": self.stop_reason,
            },
            "error_pct": _round(error, 1),
        }


@dataclass(frozen=True)
class RunRecord:
    """One run of a task over one file. ``status`` is "running" until the runner
    finishes it; a run whose process died stays "running" (nothing guesses)."""

    run_id: str
    task: str
    path: str
    lines: int | None
    mode: str
    reason: str
    status: str
    error_type: str | None
    started_at: datetime
    finished_at: datetime | None
    tokens: int
    estimated_cost: float
    estimated_api_cost: float
    stages: tuple[RunStageRecord, ...]

    def _sum(self, name: str) -> float | None:
        values = [getattr(s, name) for s in self.stages if getattr(s, name) is not None]
        return sum(values) if values else None

    @property
    def actual_cost(self) -> float | None:
        """Dollars charged over the recorded stages (None before any is recorded)."""
        return self._sum("cost")

    @property
    def actual_api_cost(self) -> float | None:
        """API-equivalent dollars over the recorded stages."""
        return self._sum("api_equivalent_cost")

    @property
    def error_pct(self) -> float | None:
        """Over the stages that have both an estimate and an actual (all of them once a
        run is ok; the ones that ran when it failed or was cancelled)."""
        measured = [s for s in self.stages if s.api_equivalent_cost is not None and s.estimated_api_cost is not None]
        if not measured:
            return None
        return error_pct(
            sum(s.estimated_api_cost or 0.0 for s in measured), sum(s.api_equivalent_cost or 0.0 for s in measured)
        )

    @property
    def elapsed_ms(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds() * 1000.0

    def to_dict(self) -> dict[str, Any]:
        def tokens(name: str) -> int | None:
            values = [getattr(s, name) for s in self.stages if getattr(s, name) is not None]
            return sum(values) if values else None

        error = self.error_pct
        return {
            "run_id": self.run_id,
            "task": self.task,
            "path": self.path,
            "lines": self.lines,
            "mode": self.mode,
            "reason": self.reason,
            "status": self.status,
            "error_type": self.error_type,
            "started_at": self.started_at.isoformat(),
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "tokens": self.tokens,
            "estimate": {
                "input_tokens": tokens("estimated_input_tokens"),
                "output_tokens": tokens("estimated_output_tokens"),
                "cost": _round(self.estimated_cost),
                "api_cost": _round(self.estimated_api_cost),
            },
            "actual": {
                "input_tokens": tokens("input_tokens"),
                "output_tokens": tokens("output_tokens"),
                "cache_tokens": tokens("cache_tokens"),
                "cost": _round(self.actual_cost),
                "api_equivalent_cost": _round(self.actual_api_cost),
            },
            "error_pct": _round(error, 1),
            "stages": [s.to_dict() for s in self.stages],
        }


def median_error_by_task(runs: Iterable[RunRecord]) -> dict[str, dict[str, Any]]:
    """Per task, the median ``error_pct`` of its finished ``ok`` runs and how many
    there were: ``{"document": {"median_error_pct": 4.2, "runs": 3}}``. Runs still
    running, failed or cancelled are left out: their actual is not the whole task's."""
    errors: dict[str, list[float]] = {}
    for run in runs:
        error = run.error_pct
        if run.status == "ok" and error is not None:
            errors.setdefault(run.task, []).append(error)
    return {
        task: {"median_error_pct": round(statistics.median(values), 1), "runs": len(values)}
        for task, values in sorted(errors.items())
    }


__all__ = ["RUN_STATUSES", "STAGE_STATUSES", "RunRecord", "RunStageRecord", "error_pct", "median_error_by_task"]
