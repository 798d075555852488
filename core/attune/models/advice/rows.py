"""One file's answer — task, lines, category, mode and reason, tokens and what they
rest on, cost — as a dict.

`attune auth recommend`, `attune scan` and the language server all show this row,
so it is built in exactly one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attune.models.advice.context import EstimateContext, ModuleAdvice, advise
from attune.models.pricing.pipeline import DEFAULT_TASK


def report_row(path: str, advice: ModuleAdvice, generated: bool) -> dict[str, Any]:
    """The row for ``advice``: its task priced in the recommended mode."""
    rec = advice.recommendation
    cost = advice.estimate()
    tokens = advice.tokens
    return {
        "path": path,
        "task": cost.task,
        "lines": advice.lines,
        "category": rec.category,
        "mode": rec.mode.value,
        "reason": rec.reason,
        "tokens": tokens.tokens,
        "tokens_low": tokens.low,
        "tokens_high": tokens.high,
        "tokens_basis": tokens.basis,
        "calibrated": tokens.calibrated,
        "monetary_cost": round(cost.total_cost, 6),
        "api_cost": round(cost.api_cost, 6),
        "fits_in_context": cost.fits_in_context,
        "generated": generated,
    }


def report_for_loc(path: Path | str, loc: Any, context: EstimateContext, task: str = DEFAULT_TASK) -> dict[str, Any]:
    """The row for a file already counted (``loc`` is a ``loc.LocResult``): its
    language and bytes let a calibration apply."""
    advice = advise(context, loc.code_lines, language=loc.language, size_bytes=loc.size_bytes, task=task)
    return report_row(str(path), advice, bool(loc.generated))


GENERATED_CAUTION = "Generated file: its size may not reflect code anyone edits by hand."

__all__ = ["GENERATED_CAUTION", "report_for_loc", "report_row"]
