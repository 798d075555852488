"""Call records for the telemetry tests: one helper with the defaults they share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from attune.models.telemetry.records import LLMCallRecord

NOW = datetime.now(UTC)  # the tests' "now": records are placed relative to it


def call(
    *,
    ago: timedelta = timedelta(minutes=1),
    workflow: str = "docs",
    stage: str = "write",
    task_type: str = "summarize",
    model: str = "claude-haiku-4-5",
    success: bool = True,
    latency: float = 100.0,
    cost: float = 0.001,
    tokens: tuple[int, int] = (100, 50),
    user: str | None = None,
) -> LLMCallRecord:
    """A call ``ago`` before NOW (an error_type of "timeout" when it failed)."""
    return LLMCallRecord(
        workflow=workflow,
        stage=stage,
        task_type=task_type,
        provider="anthropic",
        tier="cheap",
        model_id=model,
        success=success,
        error_type=None if success else "timeout",
        latency_ms=latency,
        tokens_input=tokens[0],
        tokens_output=tokens[1],
        cost=cost,
        timestamp=NOW - ago,
        user=user,
    )
