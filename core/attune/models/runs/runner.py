"""Run a task (``pricing.pipeline``) over one file.

``plan_run`` reads and counts the file, decides the mode (the strategy's
recommendation unless one is asked for; a plan without subscription quota never
runs on the subscription) and prices every stage (``estimate_task``): it sends
nothing and never imports ``anthropic``, so a preview is fast. ``execute_plan`` runs
the stages in order, each stage's prompt filled with the file and the outputs of the
stages before it:

- on the API through ``ResilientExecutor`` (breaker, retries, fallback to cheaper
  tiers, one telemetry record per call carrying the run's id). The key comes from
  ``ANTHROPIC_API_KEY`` only and is never logged or stored;
- on the subscription through Claude Code's print mode (``claude_code``): cost $0,
  the API-equivalent cost being Claude Code's ``total_cost_usd``.

The run and each finished stage are recorded in the telemetry store
(``start_run``/``record_stage``/``finish_run``). ``timeout`` bounds each stage's
call; a stage past it is stopped and the run fails. Setting ``cancel`` (a
``threading.Event`` or an ``asyncio.Event``) stops the call in flight within
a tenth of a second: finished stages are kept, the unfinished one is not recorded,
and the run is ``cancelled``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune.models.errors import AttuneError

if TYPE_CHECKING:
    from attune.models.advice import EstimateContext
    from attune.models.llm.executor import EmpathyLLMExecutor
    from attune.models.pricing.pipeline import TaskEstimate, TaskPipeline
    from attune.models.strategy.model import AuthStrategy
    from attune.models.telemetry.store import TelemetryStore

logger = logging.getLogger(__name__)

SUCCEEDED, FAILED, CANCELLED = "ok", "failed", "cancelled"  # the store's statuses
CANCEL_POLL_S = 0.05
# A stage's max_tokens: room for four times its estimated output, and at least 4,096
# tokens. Output is billed as written, not as allowed, so room costs nothing, while
# a reply cut short is a broken result; before calibration an estimate can be off by
# a factor of two or three.
MIN_MAX_TOKENS = 4096
OUTPUT_HEADROOM = 4


class RunError(AttuneError):
    """The run cannot start (no key, no Claude Code, a mode the plan lacks, a file too
    large for the context); nothing was sent."""


class _Cancelled(Exception):
    pass


class _StageTimeout(Exception):
    pass


@dataclass(frozen=True)
class RunProgress:
    """What ``on_progress`` is told: a stage started (``event="start"``) or ended."""

    event: str  # "start" | "end"
    index: int  # 0-based
    count: int  # stages in the task
    stage: str
    model: str
    tokens_so_far: int  # input + output tokens of the finished stages
    elapsed_ms: float = 0.0  # of this stage, at its end
    status: str | None = None  # at the end: ok | failed | cancelled


@dataclass
class StageResult:
    index: int
    stage: str
    tier: str
    model: str
    status: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_tokens: int = 0
    cost: float = 0.0
    api_equivalent_cost: float = 0.0
    elapsed_ms: float = 0.0
    via: str = ""  # "api" or "claude -p --model <alias>"
    error: str | None = None
    fallbacks: list[str] = field(default_factory=list)  # the attempts that failed before this model answered
    stop_reason: str | None = None  # as the API said ("max_tokens": cut); None through Claude Code

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunPlan:
    """Everything decided before anything is spent (the preview)."""

    task: TaskPipeline
    path: Path
    text: str
    language: str
    lines: int
    mode: str
    reason: str
    estimate: TaskEstimate

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task.name,
            "path": str(self.path),
            "language": self.language,
            "lines": self.lines,
            "mode": self.mode,
            "reason": self.reason,
            "output": self.task.output_hint,
            "estimate": self.estimate.to_dict(),
        }


@dataclass
class RunResult:
    """A run's outcome: its status, each stage, and the final output (empty unless
    it ended ok). ``run_id`` is the telemetry store's id (None when the store
    could not record the run)."""

    run_id: Any
    task: str
    path: str
    lines: int
    mode: str
    reason: str
    status: str
    stages: list[StageResult] = field(default_factory=list)
    output: str = ""
    error: str | None = None
    error_type: str | None = None
    estimate: dict[str, Any] = field(default_factory=dict)
    elapsed_ms: float = 0.0

    @property
    def cost(self) -> float:
        return round(sum(s.cost for s in self.stages), 6)

    @property
    def api_equivalent_cost(self) -> float:
        return round(sum(s.api_equivalent_cost for s in self.stages), 6)

    @property
    def tokens(self) -> int:
        return sum(s.input_tokens + s.output_tokens for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "task": self.task,
            "path": self.path,
            "lines": self.lines,
            "mode": self.mode,
            "reason": self.reason,
            "status": self.status,
            "error": self.error,
            "error_type": self.error_type,
            "cost": self.cost,
            "api_equivalent_cost": self.api_equivalent_cost,
            "tokens": self.tokens,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "stages": [s.to_dict() for s in self.stages],
            "estimate": self.estimate,
            "output": self.output,
        }


# ---- the plan ------------------------------------------------------------------------


def plan_run(
    task: str | TaskPipeline,
    path: str | Path,
    *,
    mode: str | None = None,
    strategy: AuthStrategy | None = None,
    context: EstimateContext | None = None,
) -> RunPlan:
    """Read and count the file, decide the mode, price the stages. Sends nothing.

    ``context`` (strategy, calibration, subscription block) defaults to the saved
    ones, with ``strategy`` in place of the saved strategy when given."""
    from attune.models.advice import advise, load_context
    from attune.models.loc.counter import analyze_text, read_source
    from attune.models.pricing.pipeline import get_task
    from attune.models.strategy.model import AuthMode

    pipeline = get_task(task) if isinstance(task, str) else task
    file = Path(path)
    text, encoding, size = read_source(file)
    loc = analyze_text(text, filename=file, size_bytes=size, encoding=encoding)
    context = context if context is not None else load_context(strategy)
    strategy = context.strategy
    lines = loc.code_lines
    advice = advise(context, lines, language=loc.language, size_bytes=loc.size_bytes, task=pipeline)
    if mode is None or AuthMode(mode) is AuthMode.AUTO:
        chosen, reason = advice.recommendation.mode, advice.recommendation.reason
    else:
        chosen = AuthMode(mode)
        if not strategy.offers(chosen):
            raise RunError(
                f"your plan ({strategy.subscription_tier.label}) has no subscription quota, so nothing runs "
                "on the subscription; run on the API with --mode api"
            )
        reason = f"You asked for the {'API' if chosen is AuthMode.API else 'subscription'} (--mode {chosen.value})."
    return RunPlan(pipeline, file, text, loc.language, lines, chosen.value, reason, advice.estimate(chosen))


# ---- running ---------------------------------------------------------------------------


async def _wait_cancel(cancel: threading.Event | asyncio.Event) -> None:
    if isinstance(cancel, asyncio.Event):
        await cancel.wait()
        return
    while not cancel.is_set():
        await asyncio.sleep(CANCEL_POLL_S)


async def _guarded(
    work: Any, cancel: threading.Event | asyncio.Event | None, timeout: float | None
) -> Any:  # the stage's result; _Cancelled or _StageTimeout when stopped
    stage_task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(_wait_cancel(cancel)) if cancel is not None else None
    pending = {stage_task} | ({waiter} if waiter is not None else set())
    try:
        done, _ = await asyncio.wait(pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        for t in pending:
            t.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*pending, return_exceptions=True)
        raise
    if waiter is not None and waiter not in done:
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
    if stage_task in done:
        return stage_task.result()
    stage_task.cancel()
    await asyncio.gather(stage_task, return_exceptions=True)
    raise _Cancelled() if waiter is not None and waiter in done else _StageTimeout()


class _Recorder:
    """The run in the telemetry store; a store that fails is logged, never fatal."""

    def __init__(self, store: TelemetryStore | None) -> None:
        self.store = store
        self.run_id: Any = None

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        if self.store is None:
            return None
        try:
            return fn()
        except Exception as exc:
            logger.warning("telemetry: could not %s (%s: %s); the run goes on", what, type(exc).__name__, exc)
            return None

    def start(self, plan: RunPlan) -> None:
        store = self.store
        if store is None:
            return
        self.run_id = self._call(
            "record the run's start",
            # the absolute path: runs are looked up by file from any directory (attune runs --file, the lens)
            lambda: store.start_run(
                plan.task.name, os.path.abspath(plan.path), plan.lines, plan.mode, plan.reason, plan.estimate
            ),
        )

    def stage(self, result: StageResult) -> None:
        store = self.store
        if store is None or self.run_id is None:
            return
        self._call(
            f"record stage {result.stage}",
            lambda: store.record_stage(
                self.run_id,
                result.index,
                result.stage,
                result.model,
                input_tokens=result.input_tokens,
                output_tokens=result.output_tokens,
                cache_tokens=result.cache_tokens,
                cost=result.cost,
                api_equivalent_cost=result.api_equivalent_cost,
                elapsed_ms=result.elapsed_ms,
                status=result.status,
                stop_reason=result.stop_reason,
            ),
        )

    def finish(self, status: str, error_type: str | None) -> None:
        store = self.store
        if store is None or self.run_id is None:
            return
        self._call("record the run's end", lambda: store.finish_run(self.run_id, status, error_type))


def _check_can_start(plan: RunPlan) -> str | None:
    """Fail before anything is recorded or sent; the Claude Code executable's path for
    a subscription run."""
    if not plan.estimate.fits_in_context:
        where = "the API's" if plan.mode == "api" else "the subscription's"
        raise RunError(
            f"{plan.path}: ≈{plan.estimate.tokens:,} tokens does not fit {where} context window; "
            + ("split the module" if plan.mode == "api" else "run it on the API with --mode api")
        )
    if plan.mode == "api":
        from attune.models.llm.executor import MissingAPIKeyError, resolve_api_key

        try:
            resolve_api_key(None)
        except MissingAPIKeyError as exc:
            raise RunError(f"{exc.message} (or run on your subscription with --mode subscription)") from None
        return None
    from attune.models.runs.claude_code import claude_executable

    return claude_executable()


async def execute_plan(
    plan: RunPlan,
    *,
    on_progress: Callable[[RunProgress], None] | None = None,
    cancel: threading.Event | asyncio.Event | None = None,
    timeout: float | None = None,
    store: TelemetryStore | None = None,
    executor: EmpathyLLMExecutor | None = None,
) -> RunResult:
    """Run the planned stages in order. Failures and cancellation end in the result's
    status; RunError (raised before anything is recorded) when the run cannot start.

    ``executor`` (API runs) lets several runs share one SDK client: a new client
    builds its TLS context, ~20 ms. Without it the run makes its own (with
    ``timeout`` as its client timeout) and closes it at the end."""
    if timeout is not None and timeout <= 0:
        raise ValueError("timeout must be positive")
    claude = _check_can_start(plan)
    if store is None:
        from attune.models.telemetry.store import get_telemetry_store

        try:
            store = get_telemetry_store()
        except Exception as exc:
            logger.warning("telemetry store unavailable (%s: %s); the run is not recorded", type(exc).__name__, exc)
    recorder = _Recorder(store)
    recorder.start(plan)
    result = RunResult(
        run_id=recorder.run_id,
        task=plan.task.name,
        path=str(plan.path),
        lines=plan.lines,
        mode=plan.mode,
        reason=plan.reason,
        status=FAILED,
        estimate=plan.estimate.to_dict(),
    )
    started = time.perf_counter()
    caller = _ApiStages(plan, recorder.run_id, timeout, executor) if plan.mode == "api" else None
    outputs: dict[str, str] = {}
    count = len(plan.task.stages)
    from attune.models.llm.tracing import RunSpan

    run_span = RunSpan(plan.task.name, plan.mode, recorder.run_id)  # current until its end: stages nest under it
    try:
        for index, (stage, priced) in enumerate(zip(plan.task.stages, plan.estimate.stages, strict=True)):
            system, user = stage.render(plan.text, str(plan.path), plan.language, outputs)
            stage_result = StageResult(index, stage.name, stage.tier, priced.model, status="running")
            if on_progress is not None:
                on_progress(RunProgress("start", index, count, stage.name, priced.model, result.tokens))
            t0 = time.perf_counter()
            failed = True
            try:
                if caller is not None:
                    work = caller.call(stage.name, stage.tier, system, user, priced.output_tokens)
                else:
                    assert claude is not None
                    work = _subscription_call(
                        claude, stage.tier, system, user, plan.task.name, stage.name, result.run_id
                    )
                reply: _Reply = await _guarded(work, cancel, timeout)
            except _Cancelled:
                stage_result.status = CANCELLED
                stage_result.elapsed_ms = (time.perf_counter() - t0) * 1000.0
                result.stages.append(stage_result)  # shown, not recorded: it did not finish
                result.status, result.error_type = CANCELLED, "cancelled"
                result.error = f"cancelled during stage {stage.name} ({index + 1} of {count})"
                if on_progress is not None:
                    on_progress(_end(stage_result, count, result.tokens))
                break
            except _StageTimeout:
                _fail(stage_result, result, t0, "timeout", f"stage {stage.name} took longer than {timeout:g} s")
            except _StageFailure as exc:
                _fail(stage_result, result, t0, exc.error_type, f"stage {stage.name} failed: {exc}")
            else:
                failed = False
            if failed:
                recorder.stage(stage_result)
                if on_progress is not None:
                    on_progress(_end(stage_result, count, result.tokens))
                break
            stage_result.status = SUCCEEDED
            stage_result.model = reply.model or stage_result.model
            stage_result.tier = reply.tier or stage_result.tier
            stage_result.input_tokens = reply.input_tokens
            stage_result.output_tokens = reply.output_tokens
            stage_result.cache_tokens = reply.cache_tokens
            stage_result.cost = reply.cost
            stage_result.api_equivalent_cost = reply.api_equivalent_cost
            stage_result.via = reply.via
            stage_result.fallbacks = list(reply.fallbacks)
            stage_result.stop_reason = reply.stop_reason
            stage_result.elapsed_ms = (time.perf_counter() - t0) * 1000.0
            result.stages.append(stage_result)
            recorder.stage(stage_result)
            outputs[stage.name] = reply.text
            if on_progress is not None:
                on_progress(_end(stage_result, count, result.tokens))
        else:
            result.status = SUCCEEDED
            result.output = plan.task.final_output(outputs)
    except BaseException:
        # cancelled from outside (the caller's task) or a bug: the run did not finish
        result.status = CANCELLED
        result.error_type = "cancelled"
        recorder.finish(CANCELLED, "cancelled")
        raise
    finally:
        if caller is not None:
            await caller.aclose()
        result.elapsed_ms = (time.perf_counter() - started) * 1000.0
        run_span.end(
            result.status,
            result.error_type,
            result.cost,
            sum(s.input_tokens + s.cache_tokens for s in result.stages),
            sum(s.output_tokens for s in result.stages),
        )
    recorder.finish(result.status, result.error_type)
    return result


def _end(stage: StageResult, count: int, tokens: int) -> RunProgress:
    return RunProgress("end", stage.index, count, stage.stage, stage.model, tokens, stage.elapsed_ms, stage.status)


def _fail(stage: StageResult, result: RunResult, t0: float, error_type: str, message: str) -> None:
    stage.status = FAILED
    stage.error = message
    stage.elapsed_ms = (time.perf_counter() - t0) * 1000.0
    result.stages.append(stage)
    result.status, result.error_type, result.error = FAILED, error_type, message


@dataclass(frozen=True)
class _Reply:
    text: str
    model: str
    tier: str
    input_tokens: int
    output_tokens: int
    cache_tokens: int
    cost: float
    api_equivalent_cost: float
    via: str
    fallbacks: tuple[str, ...] = ()
    stop_reason: str | None = None


class _StageFailure(Exception):
    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class _ApiStages:
    """The stages' calls on the API: one executor (one SDK client) for the run."""

    def __init__(self, plan: RunPlan, run_id: Any, timeout: float | None, executor: EmpathyLLMExecutor | None) -> None:
        from attune.models.llm.executor import DEFAULT_TIMEOUT, EmpathyLLMExecutor
        from attune.models.llm.resilient import ResilientExecutor, RetryPolicy

        self.workflow = f"run:{plan.task.name}"
        self.run_id = run_id
        self.owned = executor is None
        self.executor = executor or EmpathyLLMExecutor(timeout=timeout or DEFAULT_TIMEOUT)
        self.resilient = ResilientExecutor(self.executor, RetryPolicy(max_attempts=2))

    async def call(self, stage: str, tier: str, system: str, user: str, expected_output: int) -> _Reply:
        from attune.models.llm.resilient import AllProvidersFailedError

        context: dict[str, Any] = {
            "tier": tier,  # the previewed model first; cheaper tiers only as fallbacks
            "workflow": self.workflow,
            "stage": stage,
            "max_tokens": max(MIN_MAX_TOKENS, OUTPUT_HEADROOM * expected_output),
        }
        if self.run_id is not None:
            context["run_id"] = self.run_id
        try:
            r = await self.resilient.run(stage, user, system=system, context=context)
        except AllProvidersFailedError as exc:
            last = exc.attempts[-1].error_type if exc.attempts else "unknown"
            raise _StageFailure(str(exc).replace("\n", "; "), last) from None
        return _Reply(
            r.content,
            r.model_id,
            r.tier or tier,
            r.tokens_input,
            r.tokens_output,
            int(r.metadata.get("cache_creation_input_tokens", 0)) + int(r.metadata.get("cache_read_input_tokens", 0)),
            r.cost_estimate,
            r.cost_estimate,
            "api",
            tuple(str(a) for a in r.metadata.get("failed_attempts") or ()),
            str(r.metadata["stop_reason"]) if r.metadata.get("stop_reason") else None,
        )

    async def aclose(self) -> None:
        if self.owned:
            with contextlib.suppress(Exception):
                await self.executor.aclose()


async def _subscription_call(
    executable: str, tier: str, system: str, user: str, task: str, stage: str, run_id: Any
) -> _Reply:
    from attune.models.llm import tracing
    from attune.models.pricing.registry import get_model
    from attune.models.runs.claude_code import ClaudeCodeError, model_alias, run_claude

    prompt = f"{system}\n\n{user}" if system else user
    info = get_model("anthropic", tier)
    model = info.id if info is not None else model_alias(tier)
    run = str(run_id) if run_id is not None else None
    with tracing.subscription_span(model, tier, f"run:{task}", stage, run) as call:
        try:
            reply = await run_claude(prompt, tier, executable=executable)
        except ClaudeCodeError as exc:
            call.failed(exc.error_type)
            raise _StageFailure(str(exc), exc.error_type) from None
        call.succeeded(
            tracing.Usage(reply.input_tokens + reply.cache_tokens, reply.output_tokens), reply.api_equivalent_cost
        )
    return _Reply(
        reply.text,
        model,
        tier,
        reply.input_tokens,
        reply.output_tokens,
        reply.cache_tokens,
        0.0,
        reply.api_equivalent_cost,
        f"claude -p --model {model_alias(tier)}",
    )


async def arun_task(
    task: str | TaskPipeline,
    path: str | Path,
    *,
    mode: str | None = None,
    strategy: AuthStrategy | None = None,
    on_progress: Callable[[RunProgress], None] | None = None,
    cancel: threading.Event | asyncio.Event | None = None,
    timeout: float | None = None,
    store: TelemetryStore | None = None,
) -> RunResult:
    plan = plan_run(task, path, mode=mode, strategy=strategy)
    return await execute_plan(plan, on_progress=on_progress, cancel=cancel, timeout=timeout, store=store)


def run_task(
    task: str | TaskPipeline,
    path: str | Path,
    *,
    mode: str | None = None,
    strategy: AuthStrategy | None = None,
    on_progress: Callable[[RunProgress], None] | None = None,
    cancel: threading.Event | None = None,
    timeout: float | None = None,
    store: TelemetryStore | None = None,
) -> RunResult:
    """``arun_task`` in a new event loop (from code that has none running)."""
    return asyncio.run(
        arun_task(
            task,
            path,
            mode=mode,
            strategy=strategy,
            on_progress=on_progress,
            cancel=cancel,
            timeout=timeout,
            store=store,
        )
    )
