"""A task priced for one module under an auth strategy (``estimate_task``).

The task's stages and their token arithmetic are in ``pricing.pipeline``; the
strategy adds what depends on the user: lines -> tokens (its multiplier), which modes
the plan offers, and each mode's context window.
"""

from __future__ import annotations

from attune.models.pricing.pipeline import TaskEstimate, TaskPipeline, get_task, price_task
from attune.models.strategy.model import (
    API_CONTEXT_WINDOW,
    SUBSCRIPTION_CONTEXT_WINDOW,
    AuthMode,
    AuthStrategy,
    get_auth_strategy,
)


def estimate_task(
    task: TaskPipeline | str,
    *,
    lines: int | None = None,
    tokens: int | None = None,
    mode: AuthMode | str,
    strategy: AuthStrategy | None = None,
) -> TaskEstimate:
    """What running ``task`` over one module costs in ``mode`` (``api``,
    ``subscription`` or ``auto``: the strategy's recommendation, which needs lines).

    Give exactly one of ``lines`` (converted with the strategy's multiplier) or
    ``tokens`` (the module's tokens, when known exactly). ``strategy`` defaults to the
    saved one. On the API each stage costs its registry price; on a subscription the
    cost is $0 and every stage's tokens are charged to the quota. A mode the plan does
    not offer (the subscription on ``free`` or ``api_only``) is a ValueError, as for
    ``AuthStrategy.estimate_cost``."""
    if (lines is None) == (tokens is None):
        raise ValueError("estimate_task needs exactly one of lines or tokens")
    for name, value in (("lines", lines), ("tokens", tokens)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    pipeline = get_task(task) if isinstance(task, str) else task
    strategy = strategy if strategy is not None else get_auth_strategy()
    resolved = AuthMode(mode)
    if resolved is AuthMode.AUTO:
        if lines is None:
            raise ValueError("mode 'auto' decides from lines; with tokens, give mode 'api' or 'subscription'")
        resolved = strategy.get_recommended_mode(lines)
    if not strategy.offers(resolved):
        raise ValueError(
            f"your plan ({strategy.subscription_tier.label}) has no subscription quota, so there is "
            "no subscription estimate; every module runs on the API"
        )
    module_tokens = strategy.estimate_tokens(lines) if lines is not None else int(tokens or 0)
    on_api = resolved is AuthMode.API
    stages = price_task(pipeline, module_tokens, charged=on_api)
    window = API_CONTEXT_WINDOW if on_api else SUBSCRIPTION_CONTEXT_WINDOW
    api_cost = sum(s.api_cost for s in stages)
    return TaskEstimate(
        task=pipeline.name,
        mode=resolved.value,
        tokens=module_tokens,
        stages=stages,
        total_cost=api_cost if on_api else 0.0,
        api_cost=api_cost,
        quota_tokens=0 if on_api else sum(s.input_tokens + s.output_tokens for s in stages),
        fits_in_context=module_tokens <= window,
        lines=lines,
        context_window=window,
    )


__all__ = ["estimate_task"]
