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
    context: Any,
    strategy_problem: str | None,
    settings: LensSettings,
    exact_tokens: int | None = None,
) -> list[str]:
    """The lens lines, top to bottom; never empty, never a blank line. ``context`` is
    the core's ``EstimateContext`` (strategy, calibration, subscription block)."""
    from attune.models.advice import advise
    from attune.models.formatting import format_count, plural

    if strategy_problem is not None:
        return [f"Attune: strategy file invalid — {strategy_problem}; run `attune auth reset` or fix the file"]
    if not analysis.analysed:
        return [f"Attune: not analysed — {analysis.problem}"]
    loc = analysis.loc
    assert loc is not None  # analysed
    lines = loc.code_lines
    strategy = context.strategy
    advice = advise(context, lines, language=loc.language, size_bytes=loc.size_bytes, exact_tokens=exact_tokens)
    texts: list[str] = []
    if "size" in settings.show:
        category = strategy.get_module_size_category(lines)
        size = f"{category.capitalize()} module · {plural(lines, 'line')} of code"
        if loc.generated:
            size += " · generated"
        texts.append(size)
    if "mode" in settings.show:
        rec = advice.recommendation
        texts.append(f"Recommended: {_MODE_LABELS.get(rec.mode.value, rec.mode.value)} — {rec.reason}")
    if "cost" in settings.show:
        texts.append(_cost_text(advice))
    return texts or [f"Attune: {format_count(lines)} lines of code (no parts chosen in attune.lens.show)"]


def _cost_text(advice: Any) -> str:
    """API money, then the subscription's quota where the plan offers one
    (``AuthStrategy.offered_modes``): a plan without quota is shown the API only. The
    module's tokens are named when they rest on more than the default multiplier (an
    exact count, or calibration)."""
    from attune.models.advice.context import EXACT_BASIS
    from attune.models.formatting import format_count, format_money
    from attune.models.strategy.model import AuthMode

    tokens = advice.tokens
    notes = []
    if tokens.basis == EXACT_BASIS:
        notes.append(f"module {format_count(tokens.tokens)} tokens, exact")
    elif tokens.calibrated:
        notes.append(f"module ≈{format_count(tokens.tokens)} tokens, {tokens.basis}")
    api = advice.estimate(AuthMode.API)
    text = f"API ≈ {format_money(round(api.total_cost, 6))}"
    if advice.context.strategy.offers(AuthMode.SUBSCRIPTION):
        sub = advice.estimate(AuthMode.SUBSCRIPTION)
        notes.insert(0, f"≈{format_count(sub.quota_tokens)} tokens of quota")
        text += " · subscription $0"
    return f"{text} ({' · '.join(notes)})" if notes else text


def make_lenses(uri: str, texts: list[str]) -> list[types.CodeLens]:
    top = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    return [
        types.CodeLens(range=top, command=types.Command(title=text, command=SHOW_DETAILS, arguments=[{"uri": uri}]))
        for text in texts
    ]
