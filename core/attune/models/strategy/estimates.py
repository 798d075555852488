"""A task priced for one module under an auth strategy (``estimate_task``).

The task's stages and their token arithmetic are in ``pricing.pipeline``; the
strategy adds what depends on the user: lines -> tokens (its multiplier), which modes
the plan offers, and each mode's context window.
"""

from __future__ import annotations

from collections.abc import Mapping

from attune.models.pricing.pipeline import OutputRule, TaskEstimate, TaskPipeline, get_task, price_task
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
    output_rules: Mapping[str, OutputRule] | None = None,
    tokens_basis: str | None = None,
) -> TaskEstimate:
    """What running ``task`` over one module costs in ``mode`` (``api``,
    ``subscription`` or ``auto``: the strategy's recommendation, which needs lines).

    Give ``lines`` (converted with the strategy's multiplier), ``tokens`` (the
    module's tokens when known better: an exact count, or calibrated), or both (the
    tokens are priced, the lines decide ``auto`` and are reported). ``strategy``
    defaults to the saved one. ``output_rules`` (stage -> OutputRule, calibrated from real
    runs) replace the task file's ratios for the stages they name; ``tokens_basis``
    says what the tokens rest on, for the faces to show. On the API each stage costs
    its registry price; on a subscription the cost is $0 and every stage's tokens are
    charged to the quota. A mode the plan does not offer (the subscription on
    ``free`` or ``api_only``) is a ValueError, as for ``AuthStrategy.estimate_cost``."""
    if lines is None and tokens is None:
        raise ValueError("estimate_task needs lines, tokens or both")
    for name, value in (("lines", lines), ("tokens", tokens)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    pipeline = get_task(task) if isinstance(task, str) else task
    strategy = strategy if strategy is not None else get_auth_strategy()
    resolved = AuthMode(mode)
    if resolved is AuthMode.AUTO:
        if lines is None:
            raise ValueError("mode 'auto' decides from lines; with tokens alone, give mode 'api' or 'subscription'")
        resolved = strategy.recommend(lines, pipeline.name, tokens=tokens, output_rules=output_rules).mode
    if not strategy.offers(resolved):
        raise ValueError(
            f"your plan ({strategy.subscription_tier.label}) has no subscription quota, so there is "
            "no subscription estimate; every module runs on the API"
        )
    if tokens is not None:
        module_tokens = tokens
    else:
        assert lines is not None
        module_tokens = strategy.estimate_tokens(lines)
        if tokens_basis is None:
            tokens_basis = f"default {strategy.loc_to_tokens_multiplier:g} tokens/line"
    rules = {name: rule for name, rule in (output_rules or {}).items() if any(s.name == name for s in pipeline.stages)}
    on_api = resolved is AuthMode.API
    stages = price_task(pipeline, module_tokens, charged=on_api, output_rules=rules)
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
        tokens_basis=tokens_basis,
        calibrated_stages=tuple(s.name for s in pipeline.stages if s.name in rules),
    )


__all__ = ["estimate_task"]
