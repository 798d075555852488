"""The terminal setup wizard: shows the trade-offs, then asks for tier and mode.

Used by `attune auth setup` on a terminal and by ``get_auth_strategy()`` when setup
is incomplete and stdin is a terminal. It never runs without a terminal.
"""

from __future__ import annotations

from collections.abc import Callable

from attune.models.formatting import format_count, format_money
from attune.models.strategy.model import TIER_LABELS, AuthMode, AuthStrategy, SubscriptionTier

# Module sizes the wizard uses to show what each choice means in practice.
EXAMPLE_SIZES = (200, 1_200, 5_000)

TIER_CHOICES = [
    SubscriptionTier.FREE,
    SubscriptionTier.PRO,
    SubscriptionTier.MAX,
    SubscriptionTier.TEAM,
    SubscriptionTier.ENTERPRISE,
    SubscriptionTier.API_ONLY,
]
MODE_CHOICES = [(AuthMode.AUTO, "Auto (recommended)"), (AuthMode.SUBSCRIPTION, "Subscription"), (AuthMode.API, "API")]


class SetupCancelled(Exception):
    pass


def _choose(
    ask: Callable[[str], str], out: Callable[[str], None], title: str, labels: list[str], default_index: int
) -> int:
    out(title)
    for i, label in enumerate(labels, 1):
        out(f"  {i}) {label}")
    while True:
        try:
            answer = ask(f"Choice [{default_index + 1}]: ").strip()
        except EOFError:
            raise SetupCancelled() from None
        if not answer:
            return default_index
        if answer.isdigit() and 1 <= int(answer) <= len(labels):
            return int(answer) - 1
        lowered = answer.lower()
        matches = [i for i, label in enumerate(labels) if label.lower().startswith(lowered)]
        if len(matches) == 1:
            return matches[0]
        out(f"  Please type a number from 1 to {len(labels)}.")


def _show_tradeoffs(strategy: AuthStrategy, out: Callable[[str], None]) -> None:
    lines = EXAMPLE_SIZES[1]
    pc = strategy.get_pros_cons(lines)
    out(f"\nWhat each mode means for a typical {format_count(lines)}-line module:")
    for key, title in (("subscription", "Subscription"), ("api", "API"), ("auto", "Auto")):
        if not pc[key]["offered"]:  # a plan without quota is shown no subscription figures
            out(f"  {title}: not on your plan")
            for con in pc[key]["cons"]:
                out(f"    - {con}")
            continue
        out(f"  {title}")
        for pro in pc[key]["pros"]:
            out(f"    + {pro}")
        for con in pc[key]["cons"]:
            out(f"    - {con}")
    out("\nWith Auto, your plan would run:")
    for size in EXAMPLE_SIZES:
        rec = strategy.recommend(size)
        cost = strategy.estimate_cost(size, rec.mode)
        money = format_money(cost["monetary_cost"])
        out(f"  {format_count(size):>6} lines -> {rec.mode.value:<12} {money:>8}  {rec.reason}")


def run_interactive_setup(
    current: AuthStrategy | None = None, ask: Callable[[str], str] = input, out: Callable[[str], None] = print
) -> AuthStrategy:
    """Ask, save (backing up what it replaces) and return the new strategy."""
    from attune.models.strategy.backups import apply_setup

    current = current or AuthStrategy()
    out("Attune setup: how do you pay for Claude?")
    tier_index = _choose(
        ask,
        out,
        "Your Claude plan:",
        [TIER_LABELS[t] for t in TIER_CHOICES],
        TIER_CHOICES.index(current.subscription_tier),
    )
    draft = current.model_copy(update={"subscription_tier": TIER_CHOICES[tier_index]})
    draft = AuthStrategy.model_validate(draft.model_dump())
    _show_tradeoffs(draft, out)
    modes = [(m, label) for m, label in MODE_CHOICES if m is AuthMode.AUTO or draft.offers(m)]
    offered = [m for m, _ in modes]
    mode_index = _choose(
        ask,
        out,
        "\nHow should Attune choose?",
        [label for _, label in modes],
        offered.index(current.default_mode) if current.default_mode in offered else 0,
    )
    result = apply_setup(
        {"subscription_tier": draft.subscription_tier.value, "default_mode": modes[mode_index][0].value}
    )
    chosen = AuthStrategy.from_dict(result.current or {})
    out(f"\nSaved to {result.path}")
    if result.backup:
        out(f"Previous strategy backed up to {result.backup}")
    return chosen
