"""Retries with backoff and fallback along a chain of models, over ``EmpathyLLMExecutor``.

For each target in the fallback chain (e.g. premium -> capable -> cheap):

- breaker open (``circuit_open``): move on at once, nothing was sent;
- ``auth`` / ``missing_api_key``: stop; every model uses the same key, so
  ``AllProvidersFailedError`` is raised with the attempts so far;
- ``bad_request`` (or another non-retryable type): move on without retrying, a
  different model may accept the request (context window, model not found);
- retryable (``rate_limit``, ``overloaded``, ``server``, ``timeout``, ``connection``):
  wait and try the same target again, up to ``RetryPolicy.max_attempts`` calls; then
  move on. A ``Retry-After`` is honoured; if it is longer than ``max_delay`` we do not
  wait it out but move on to the next target.

The chain is the ``fallback`` given (a ``model``/``tier`` in the context is then
ignored), else the executor's own choice for the task followed by the cheaper tiers.

Each ``run`` is an OpenTelemetry INTERNAL span ``chat <first model>`` whose children are
its attempts' CLIENT spans (``tracing``); it carries the call's tokens and cost.

Waits use ``asyncio.sleep`` (injectable: tests pass a recorder). When every target
fails, ``AllProvidersFailedError.attempts`` lists each call (model, error type,
message, Retry-After).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from attune.models.llm import errors as pe
from attune.models.llm import tracing
from attune.models.llm.executor import DEFAULT_WORKFLOW, EmpathyLLMExecutor, LLMResponse, ModelChoice, state_name
from attune.models.pricing.registry import find_model
from attune.models.pricing.tasks import TIERS, normalize_task_type

logger = logging.getLogger(__name__)

__all__ = [
    "AllProvidersFailedError",
    "Attempt",
    "FallbackStrategy",
    "FallbackTarget",
    "ResilientExecutor",
    "RetryPolicy",
]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one target.

    Delay before retry n (n = 1, 2, ...): ``min(max_delay, base_delay * 2**(n-1))``;
    with ``jitter`` it is drawn uniformly from [half of that, all of it] ("equal
    jitter": spreads a crowd of clients out while keeping the backoff's growth).
    A ``Retry-After`` from the provider replaces the computed delay when
    ``honor_retry_after`` (the provider knows when it will take us back).
    """

    max_attempts: int = 3  # calls per target, the first one included
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: bool = True
    honor_retry_after: bool = True
    retry_on: frozenset[str] = pe.RETRYABLE

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    def backoff(self, retry_number: int, rand: Callable[[], float] = random.random) -> float:
        delay = min(self.max_delay, self.base_delay * (2 ** (retry_number - 1)))
        if self.jitter:
            delay = delay / 2 + rand() * delay / 2
        return float(delay)

    def delay_before_retry(
        self, retry_number: int, retry_after: float | None, rand: Callable[[], float] = random.random
    ) -> float | None:
        """Seconds to wait before retry ``retry_number``; None: do not retry this target
        (the provider asked for a longer wait than ``max_delay``)."""
        if self.honor_retry_after and retry_after is not None:
            return retry_after if retry_after <= self.max_delay else None
        return self.backoff(retry_number, rand)


@dataclass(frozen=True)
class FallbackTarget:
    """One link of the chain: a tier of a provider, or an exact model id."""

    provider: str = "anthropic"
    tier: str | None = None
    model_id: str | None = None

    def context(self) -> dict[str, Any]:
        return {"model": self.model_id} if self.model_id else {"tier": self.tier}

    def __str__(self) -> str:
        return self.model_id or f"{self.provider}:{self.tier}"


class FallbackStrategy:
    """An ordered chain of targets; entries are ``(provider, tier)`` tuples or model ids."""

    def __init__(self, chain: Iterable[tuple[str, str] | str | FallbackTarget]) -> None:
        targets: list[FallbackTarget] = []
        for entry in chain:
            if isinstance(entry, FallbackTarget):
                target = entry
            elif isinstance(entry, str):
                info = find_model(entry)
                target = FallbackTarget(info.provider if info else "anthropic", None, entry)
            else:
                provider, tier = entry
                if tier not in TIERS:
                    raise ValueError(f"unknown tier {tier!r}; tiers are {', '.join(TIERS)}")
                target = FallbackTarget(provider, tier, None)
            if target not in targets:
                targets.append(target)
        if not targets:
            raise ValueError("a fallback chain needs at least one target")
        self.targets: tuple[FallbackTarget, ...] = tuple(targets)

    @classmethod
    def tiers(cls, *tiers: str, provider: str = "anthropic") -> FallbackStrategy:
        """The given tiers in order, e.g. ``tiers("premium", "capable")``."""
        return cls((provider, t) for t in tiers)

    @classmethod
    def downgrade_from(cls, tier: str = "premium", provider: str = "anthropic") -> FallbackStrategy:
        """``tier`` and every cheaper tier: premium -> capable -> cheap."""
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r}; tiers are {', '.join(TIERS)}")
        order = list(reversed(TIERS))  # premium, capable, cheap
        return cls.tiers(*order[order.index(tier) :], provider=provider)

    @classmethod
    def models(cls, *model_ids: str) -> FallbackStrategy:
        """Exact model ids in order."""
        return cls(model_ids)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.targets)

    def __repr__(self) -> str:
        return f"FallbackStrategy([{', '.join(str(t) for t in self.targets)}])"


@dataclass(frozen=True)
class Attempt:
    model_id: str
    provider: str
    tier: str
    error_type: str
    message: str
    retry_after: float | None = None

    def __str__(self) -> str:
        return f"{self.model_id} ({self.error_type}): {self.message}"


class AllProvidersFailedError(Exception):
    """Every target in the chain failed; ``attempts`` lists each call in order."""

    def __init__(self, attempts: Sequence[Attempt], reason: str = "all fallback targets failed"):
        self.attempts: list[Attempt] = list(attempts)
        lines = "\n".join(f"  {i}. {a}" for i, a in enumerate(self.attempts, 1))
        super().__init__(f"{reason} ({len(self.attempts)} attempt(s)):\n{lines}")


Sleep = Callable[[float], Awaitable[Any]]


class ResilientExecutor:
    """``run`` like ``EmpathyLLMExecutor.run``, but retries and falls back; raises
    ``AllProvidersFailedError`` instead of returning a failed response."""

    def __init__(
        self,
        executor: EmpathyLLMExecutor,
        retry: RetryPolicy | None = None,
        fallback: FallbackStrategy | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.executor = executor
        self.retry = retry or RetryPolicy()
        self.fallback = fallback
        self._sleep = sleep
        self._rand = rand
        if fallback is not None:
            others = {t.provider for t in fallback.targets} - {executor.provider}
            if others:
                raise ValueError(
                    f"no executor for provider(s) {', '.join(sorted(others))}; this executor calls {executor.provider}"
                )

    def chain_for(self, task_type: str, context: Mapping[str, Any] | None = None) -> FallbackStrategy:
        """The explicit fallback, else the executor's own choice followed by cheaper tiers."""
        if self.fallback is not None:
            return self.fallback
        first = self.executor.select_model(task_type, context)
        cheaper = FallbackStrategy.downgrade_from(first.tier, first.provider).targets[1:] if first.tier in TIERS else ()
        head = (
            FallbackTarget(first.provider, None, first.model_id)
            if first.selected_by in ("override", "router")
            else FallbackTarget(first.provider, first.tier)
        )
        return FallbackStrategy([head, *cheaper])

    async def run(
        self,
        task_type: str,
        prompt: str,
        system: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> LLMResponse:
        chain = self.chain_for(task_type, context)
        first = self._target_choice(chain.targets[0], task_type, context)
        ctx = context or {}
        with tracing.resilient_span(
            first.model_id,
            first.tier,
            str(ctx.get("workflow") or DEFAULT_WORKFLOW),
            str(ctx.get("stage") or normalize_task_type(task_type)),
            str(ctx["run_id"]) if ctx.get("run_id") else None,
        ) as call:
            try:
                response = await self._run_chain(chain, task_type, prompt, system, context)
            except AllProvidersFailedError as exc:
                last = exc.attempts[-1] if exc.attempts else None
                call.failed(
                    last.error_type if last else pe.UNKNOWN,
                    last.tier if last else None,
                    self._breaker_state(last.provider, last.tier) if last else None,
                )
                raise
            meta = response.metadata
            call.succeeded(
                response.model_id,
                response.tier,
                response.cost_estimate,
                tracing.Usage(
                    response.tokens_input,
                    response.tokens_output,
                    int(meta.get("cache_read_input_tokens") or 0),
                    int(meta.get("cache_creation_input_tokens") or 0),
                ),
                meta.get("response_model"),
                "closed",  # the answering target's breaker: a success closes it
            )
            return response

    def _target_choice(self, target: FallbackTarget, task_type: str, context: Mapping[str, Any] | None) -> ModelChoice:
        """The model and tier the first target asks for (the call span is named after it)."""
        base = {k: v for k, v in (context or {}).items() if k not in ("model", "tier")}
        return self.executor.select_model(task_type, {**base, **target.context()})

    def _breaker_state(self, provider: str, tier: str) -> Callable[[], str]:
        breaker = self.executor.breaker
        return lambda: state_name(breaker.peek_state(provider, tier))

    async def _run_chain(
        self,
        chain: FallbackStrategy,
        task_type: str,
        prompt: str,
        system: str | None,
        context: Mapping[str, Any] | None,
    ) -> LLMResponse:
        base = {k: v for k, v in (context or {}).items() if k not in ("model", "tier")}
        attempts: list[Attempt] = []
        for index, target in enumerate(chain):
            ctx = {**base, **target.context()}
            for call in range(1, self.retry.max_attempts + 1):
                response = await self.executor.run(task_type, prompt, system, ctx)
                if response.success:
                    response.metadata.update(
                        attempts=len(attempts) + 1, fallback_index=index, failed_attempts=[str(a) for a in attempts]
                    )
                    return response
                attempt = Attempt(
                    response.model_id,
                    response.provider,
                    response.tier,
                    response.error_type or pe.UNKNOWN,
                    response.error or "",
                    response.retry_after,
                )
                attempts.append(attempt)
                if attempt.error_type in pe.FATAL:
                    raise AllProvidersFailedError(attempts, "stopped: the API key was refused or is missing")
                if attempt.error_type not in self.retry.retry_on or call == self.retry.max_attempts:
                    break
                delay = self.retry.delay_before_retry(call, response.retry_after, self._rand)
                if delay is None:
                    logger.info(
                        "%s asks to wait %.1fs (> max_delay %.1fs); trying the next target",
                        target,
                        response.retry_after or 0.0,
                        self.retry.max_delay,
                    )
                    break
                logger.info("%s failed (%s); retry %d in %.2fs", target, attempt.error_type, call, delay)
                await self._sleep(delay)
            logger.warning("giving up on %s after %s", target, attempts[-1])
        raise AllProvidersFailedError(attempts)
