"""The inputs of every estimate beyond the file itself, loaded once per command or
per change (``load_context``), and the advice for one module (``advise``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from attune.models.pricing.pipeline import DEFAULT_TASK, OutputRule, TaskEstimate, TaskPipeline, task_names
from attune.models.strategy.estimates import estimate_task
from attune.models.strategy.model import AuthMode, AuthStrategy, Recommendation, SubscriptionBlock

if TYPE_CHECKING:
    from attune.models.calibration.estimate import ModuleTokens
    from attune.models.calibration.model import Calibration

log = logging.getLogger(__name__)

EXACT_BASIS = "exact count"


@dataclass(frozen=True)
class EstimateContext:
    """The strategy, the calibration (None when there is none or it is unusable:
    ``calibration_problem`` then says why, and estimates use the defaults) and the
    subscription's current block (None unless a block budget is set and a block is
    active)."""

    strategy: AuthStrategy
    calibration: Calibration | None = None
    calibration_problem: str | None = None
    block: SubscriptionBlock | None = None
    now: datetime | None = None
    _rules: dict[str, dict[str, OutputRule]] = field(default_factory=dict, compare=False, repr=False)

    def output_rules(self, task: str) -> Mapping[str, OutputRule]:
        """The calibrated output rule of each stage of ``task`` that has one."""
        rules = self._rules.get(task)
        if rules is None:
            from attune.models.calibration.estimate import stage_output_rules

            rules = self._rules[task] = stage_output_rules(self.calibration, task)
        return rules


def load_context(strategy: AuthStrategy | None = None, *, read_usage: bool = True) -> EstimateContext:
    """The saved strategy (a corrupt file raises StrategyFileError: advice made
    silently from defaults would mislead), the calibration file, and, when the
    strategy has a block budget, the current block from Claude Code's logs. A
    corrupt calibration file is kept as it is and reported in
    ``calibration_problem``; unreadable logs leave ``block`` None (logged)."""
    from attune.models.calibration.model import CalibrationFileError, load_calibration

    strategy = strategy if strategy is not None else AuthStrategy.load()
    calibration: Calibration | None = None
    problem = None
    try:
        calibration = load_calibration()
    except CalibrationFileError as exc:
        problem = str(exc)
    block = current_block(strategy) if read_usage else None
    return EstimateContext(strategy, calibration, problem, block)


def current_block(strategy: AuthStrategy) -> SubscriptionBlock | None:
    """The subscription's current block, read only when a budget makes it matter."""
    if strategy.subscription_block_budget_tokens is None or not strategy.offers(AuthMode.SUBSCRIPTION):
        return None
    from attune.models.usage import UsageReader, subscription_block

    try:
        with UsageReader() as reader:
            reader.refresh()
            return subscription_block(reader)
    except Exception as exc:  # usage is advice, never a reason to fail an estimate
        log.warning("Claude Code's usage logs could not be read (%s); the block budget is not applied", exc)
        return None


@dataclass(frozen=True)
class ModuleAdvice:
    """One module's tokens, recommended mode, and the task it prices."""

    context: EstimateContext
    task: TaskPipeline | str
    lines: int
    tokens: ModuleTokens
    recommendation: Recommendation

    def estimate(self, mode: AuthMode | str | None = None) -> TaskEstimate:
        """The task priced in ``mode`` (default: the recommended one)."""
        return estimate_task(
            self.task,
            lines=self.lines,
            tokens=self.tokens.tokens,
            mode=self.recommendation.mode if mode is None else mode,
            strategy=self.context.strategy,
            output_rules=self.context.output_rules(_name(self.task)),
            tokens_basis=self.tokens.basis,
        )


def advise(
    context: EstimateContext,
    lines: int,
    *,
    language: str | None = None,
    size_bytes: int | None = None,
    task: TaskPipeline | str = DEFAULT_TASK,
    exact_tokens: int | None = None,
) -> ModuleAdvice:
    """The advice for a module of ``lines`` code lines (``size_bytes`` bytes, in
    ``language``): exact tokens when counted, else calibrated, else the strategy's
    multiplier. The reason quotes ``task``'s API price (for a task built in code
    rather than read from a task file: the default task's)."""
    from attune.models.calibration.estimate import ModuleTokens, module_tokens

    strategy = context.strategy
    if exact_tokens is not None:
        tokens = ModuleTokens(exact_tokens, exact_tokens, exact_tokens, False, EXACT_BASIS)
    else:
        tokens = module_tokens(
            lines,
            language=language,
            size_bytes=size_bytes,
            multiplier=strategy.loc_to_tokens_multiplier,
            calibration=context.calibration,
        )
    name = _name(task)
    quoted = name if name in task_names() else DEFAULT_TASK
    rec = strategy.recommend(
        lines,
        quoted,
        tokens=tokens.tokens,
        block=context.block,
        now=context.now,
        output_rules=context.output_rules(quoted),
    )
    return ModuleAdvice(context, task, lines, tokens, rec)


def _name(task: TaskPipeline | str) -> str:
    return task if isinstance(task, str) else task.name


__all__ = ["EXACT_BASIS", "EstimateContext", "ModuleAdvice", "advise", "current_block", "load_context"]
