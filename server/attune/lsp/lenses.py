"""The text of each lens, from an Analysis, the strategy and the settings.

Every lens carries its command (``attune.server.showDetails``) directly, so no
client ever shows a blank lens or ``!!MISSING: command!!`` waiting for a resolve.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .analysis import Analysis
from .protocol import SHOW_DETAILS

if TYPE_CHECKING:
    from .settings import LensSettings

_MODE_LABELS = {"subscription": "Subscription", "api": "API", "auto": "Auto"}


def lens_texts(
    analysis: Analysis,
    strategy: Any,
    strategy_problem: str | None,
    settings: LensSettings,
    exact_tokens: int | None = None,
) -> list[str]:
    """The lens lines, top to bottom; never empty, never a blank line."""
    from attune.models.formatting import format_count, plural

    if strategy_problem is not None:
        return [f"Attune: strategy file invalid — {strategy_problem}; run `attune auth reset` or fix the file"]
    if not analysis.analysed:
        return [f"Attune: not analysed — {analysis.problem}"]
    loc = analysis.loc
    assert loc is not None  # analysed
    lines = loc.code_lines
    texts: list[str] = []
    if "size" in settings.show:
        category = strategy.get_module_size_category(lines)
        size = f"{category.capitalize()} module · {plural(lines, 'line')} of code"
        if loc.generated:
            size += " · generated"
        texts.append(size)
    if "mode" in settings.show:
        rec = strategy.recommend(lines)
        texts.append(f"Recommended: {_MODE_LABELS.get(rec.mode.value, rec.mode.value)} — {rec.reason}")
    if "cost" in settings.show:
        texts.append(_cost_text(strategy, lines, exact_tokens))
    return texts or [f"Attune: {format_count(lines)} lines of code (no parts chosen in attune.lens.show)"]


def _cost_text(strategy: Any, lines: int, exact_tokens: int | None) -> str:
    """API money, then the subscription's quota where the plan offers one
    (``AuthStrategy.offered_modes``): a plan without quota is shown the API only."""
    from attune.models.formatting import format_count, format_money
    from attune.models.strategy.model import AuthMode

    if exact_tokens is not None:
        api = strategy.estimate_cost_for_tokens(exact_tokens, AuthMode.API)
        text = f"API ≈ {format_money(api['monetary_cost'])}"
        exact = f"module {format_count(exact_tokens)} tokens, exact"
        if not strategy.offers(AuthMode.SUBSCRIPTION):
            return f"{text} ({exact})"
        sub = strategy.estimate_cost_for_tokens(exact_tokens, AuthMode.SUBSCRIPTION)
        return f"{text} · subscription $0 (≈{format_count(sub['quota_cost'])} tokens of quota · {exact})"
    api = strategy.estimate_cost(lines, AuthMode.API)
    text = f"API ≈ {format_money(api['monetary_cost'])}"
    if not strategy.offers(AuthMode.SUBSCRIPTION):
        return text
    sub = strategy.estimate_cost(lines, AuthMode.SUBSCRIPTION)
    return f"{text} · subscription $0 (≈{format_count(sub['tokens_used'])} tokens of quota)"


def make_lenses(uri: str, texts: list[str]) -> list[types.CodeLens]:
    top = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    return [
        types.CodeLens(range=top, command=types.Command(title=text, command=SHOW_DETAILS, arguments=[{"uri": uri}]))
        for text in texts
    ]
