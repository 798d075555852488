"""How numbers read in every face of Attune (CLI, lenses, wizard), in one place."""

from __future__ import annotations


def format_count(n: int) -> str:
    """12345 -> '12,345'."""
    return f"{n:,}"


def format_money(dollars: float) -> str:
    """Small amounts keep 4 decimals so cheap files don't all read '$0.00'."""
    if dollars == 0:
        return "$0"
    if dollars >= 1:
        return f"${dollars:,.2f}"
    return f"${dollars:.4f}"


def format_tokens_short(tokens: int) -> str:
    """200000 -> '200K', 1000000 -> '1M'."""
    if tokens >= 1_000_000 and tokens % 1_000_000 == 0:
        return f"{tokens // 1_000_000}M"
    if tokens >= 1_000 and tokens % 1_000 == 0:
        return f"{tokens // 1_000}K"
    return format_count(tokens)


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """plural(1, 'line') -> '1 line'; plural(1234, 'line') -> '1,234 lines'."""
    return f"{format_count(n)} {singular if n == 1 else (plural_form or singular + 's')}"


def format_duration_short(seconds: float) -> str:
    """4320 -> '1 h 12 min', 300 -> '5 min', 20 -> 'under a minute' (rounded down to the minute)."""
    minutes = max(0, int(seconds // 60))
    if minutes == 0:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
