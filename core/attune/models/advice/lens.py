"""The lens lines of one file: a short title each (at most ~50 characters, so the
editor never cuts them) and a tooltip with the reason, the formula, the tokens and
the thresholds. The language server shows them; the workspace overview shows the
titles on hover.
"""

from __future__ import annotations

from dataclasses import dataclass

from attune.models.advice.context import EXACT_BASIS, ModuleAdvice
from attune.models.advice.rows import GENERATED_CAUTION
from attune.models.formatting import format_count, format_money, plural
from attune.models.strategy.model import AuthMode

LENS_PARTS = ("size", "mode", "cost")
MODE_LABELS = {AuthMode.SUBSCRIPTION: "Subscription", AuthMode.API: "API", AuthMode.AUTO: "Auto"}


@dataclass(frozen=True)
class LensLine:
    part: str  # one of LENS_PARTS
    title: str
    tooltip: str


def size_line(advice: ModuleAdvice, generated: bool) -> LensLine:
    strategy = advice.context.strategy
    rec = advice.recommendation
    title = f"{rec.category.capitalize()} · {plural(advice.lines, 'line')}" + (" · generated" if generated else "")
    tooltip = (
        f"{plural(advice.lines, 'line')} of code (blank lines and comments are not counted). "
        f"Small < {format_count(strategy.small_module_threshold)} ≤ medium < "
        f"{format_count(strategy.medium_module_threshold)} ≤ large lines."
    )
    return LensLine("size", title, tooltip + (f"\n{GENERATED_CAUTION}" if generated else ""))


def mode_line(advice: ModuleAdvice) -> LensLine:
    rec = advice.recommendation
    title = f"{MODE_LABELS[rec.mode]} (recommended)"
    return LensLine("mode", title, f"{rec.reason}\nTo change your plan or mode: Attune: Set Up Authentication.")


def cost_line(advice: ModuleAdvice) -> LensLine:
    """The API price of the task; the tooltip has each stage, the module's tokens and
    what they rest on, and the subscription's quota where the plan has one."""
    api = advice.estimate(AuthMode.API)
    tokens = advice.tokens
    basis = "exact count" if tokens.basis == EXACT_BASIS else tokens.basis
    rows = [f"{api.task} on the API: ≈{format_money(api.total_cost)} (prices as of {api.prices_as_of})"]
    rows += [
        f"  {s.stage} ({s.model}): {format_count(s.input_tokens)} in + {format_count(s.output_tokens)} out"
        f" = {format_money(s.api_cost)}" + (" · calibrated" if s.stage in api.calibrated_stages else "")
        for s in api.stages
    ]
    rows.append(f"Module: ≈{format_count(tokens.tokens)} tokens ({basis})")
    if tokens.calibrated and tokens.low != tokens.high:
        rows[-1] += f", likely {format_count(tokens.low)}–{format_count(tokens.high)}"
    if advice.context.strategy.offers(AuthMode.SUBSCRIPTION):
        sub = advice.estimate(AuthMode.SUBSCRIPTION)
        rows.append(f"On your subscription: $0, ≈{format_count(sub.quota_tokens)} tokens of quota")
    return LensLine("cost", f"API ≈ {format_money(round(api.total_cost, 6))}", "\n".join(rows))


def lens_lines(advice: ModuleAdvice, *, generated: bool, parts: tuple[str, ...] = LENS_PARTS) -> list[LensLine]:
    """The lines of ``parts``, in that order."""
    make = {
        "size": lambda: size_line(advice, generated),
        "mode": lambda: mode_line(advice),
        "cost": lambda: cost_line(advice),
    }
    return [make[part]() for part in parts if part in make]


def lens_summary(advice: ModuleAdvice, *, generated: bool) -> str:
    """The three titles on one line, for a hover: ``Large · 3,000 lines · Subscription
    (recommended) · API ≈ $0.35``."""
    return " · ".join(line.title for line in lens_lines(advice, generated=generated))


__all__ = ["LENS_PARTS", "LensLine", "cost_line", "lens_lines", "lens_summary", "mode_line", "size_line"]
