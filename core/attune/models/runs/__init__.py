"""Running a task over one file: the stages in order, each on the API (through the
resilient executor) or on the subscription (through Claude Code), recorded as one run
in the telemetry store (``runner``); Claude Code's print mode (``claude_code``)."""

from attune.models.runs.claude_code import ClaudeCodeError, ClaudeCodeMissingError, ClaudeCodeNotLoggedInError
from attune.models.runs.runner import (
    RunError,
    RunPlan,
    RunProgress,
    RunResult,
    StageResult,
    arun_task,
    execute_plan,
    plan_run,
    run_task,
)

__all__ = [
    "ClaudeCodeError",
    "ClaudeCodeMissingError",
    "ClaudeCodeNotLoggedInError",
    "RunError",
    "RunPlan",
    "RunProgress",
    "RunResult",
    "StageResult",
    "arun_task",
    "execute_plan",
    "plan_run",
    "run_task",
]
