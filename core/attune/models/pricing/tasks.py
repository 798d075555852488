"""Task types and the tier each one runs on.

A task names what a call is for; its tier (cheap, capable, premium) picks the model
in the registry. ``REALTIME_REQUIRED_TASKS`` are user-facing: the router puts latency
first for them and ignores cost limits.
"""

from __future__ import annotations

from enum import Enum


class TaskType(str, Enum):
    # cheap: short, mechanical, high volume
    SUMMARIZE = "summarize"
    CLASSIFY = "classify"
    TRIAGE = "triage"
    MATCH_PATTERN = "match_pattern"
    EXTRACT_TOPIC = "extract_topic"
    LINT_CHECK = "lint_check"
    FORMAT_CODE = "format_code"
    SIMPLE_QA = "simple_qa"
    OUTLINE = "outline"
    API_REFERENCE = "api_reference"
    # capable: most code work
    GENERATE_CODE = "generate_code"
    FIX_BUG = "fix_bug"
    REVIEW_SECURITY = "review_security"
    ANALYZE_PERFORMANCE = "analyze_performance"
    WRITE_TESTS = "write_tests"
    REFACTOR = "refactor"
    EXPLAIN_CODE = "explain_code"
    DOCUMENT_CODE = "document_code"
    WRITE_DOCS = "write_docs"
    CHAT = "chat"
    LIVE_CODING = "live_coding"
    # premium: hard reasoning, rare, costly
    COORDINATE = "coordinate"
    SYNTHESIZE_RESULTS = "synthesize_results"
    ARCHITECTURAL_DECISION = "architectural_decision"
    NOVEL_PROBLEM = "novel_problem"
    FINAL_REVIEW = "final_review"
    POLISH = "polish"
    SECURITY_INCIDENT = "security_incident"
    EMERGENCY_RESPONSE = "emergency_response"


CHEAP_TASKS: frozenset[str] = frozenset(
    t.value
    for t in (
        TaskType.SUMMARIZE,
        TaskType.CLASSIFY,
        TaskType.TRIAGE,
        TaskType.MATCH_PATTERN,
        TaskType.EXTRACT_TOPIC,
        TaskType.LINT_CHECK,
        TaskType.FORMAT_CODE,
        TaskType.SIMPLE_QA,
        TaskType.OUTLINE,
        TaskType.API_REFERENCE,
    )
)
CAPABLE_TASKS: frozenset[str] = frozenset(
    t.value
    for t in (
        TaskType.GENERATE_CODE,
        TaskType.FIX_BUG,
        TaskType.REVIEW_SECURITY,
        TaskType.ANALYZE_PERFORMANCE,
        TaskType.WRITE_TESTS,
        TaskType.REFACTOR,
        TaskType.EXPLAIN_CODE,
        TaskType.DOCUMENT_CODE,
        TaskType.WRITE_DOCS,
        TaskType.CHAT,
        TaskType.LIVE_CODING,
    )
)
PREMIUM_TASKS: frozenset[str] = frozenset(
    t.value
    for t in (
        TaskType.COORDINATE,
        TaskType.SYNTHESIZE_RESULTS,
        TaskType.ARCHITECTURAL_DECISION,
        TaskType.NOVEL_PROBLEM,
        TaskType.FINAL_REVIEW,
        TaskType.POLISH,
        TaskType.SECURITY_INCIDENT,
        TaskType.EMERGENCY_RESPONSE,
    )
)
REALTIME_REQUIRED_TASKS: frozenset[str] = frozenset({"chat", "live_coding", "security_incident", "emergency_response"})

DEFAULT_TIER = "capable"
TIERS: tuple[str, ...] = ("cheap", "capable", "premium")

TASK_TIER_MAP: dict[str, str] = {
    **dict.fromkeys(CHEAP_TASKS, "cheap"),
    **dict.fromkeys(CAPABLE_TASKS, "capable"),
    **dict.fromkeys(PREMIUM_TASKS, "premium"),
}


def normalize_task_type(task: str | TaskType) -> str:
    """``"Fix-Bug"``, ``"fix bug"`` and ``TaskType.FIX_BUG`` all become ``"fix_bug"``."""
    if isinstance(task, TaskType):
        return task.value
    return str(task).strip().lower().replace("-", "_").replace(" ", "_")


def get_tier_for_task(task: str | TaskType) -> str:
    """The tier a task runs on; an unknown task runs on the capable tier."""
    return TASK_TIER_MAP.get(normalize_task_type(task), DEFAULT_TIER)


def is_realtime(*names: str | None) -> bool:
    """True when any of the names (task type, workflow or stage) is a realtime task."""
    return any(name and normalize_task_type(name) in REALTIME_REQUIRED_TASKS for name in names)
