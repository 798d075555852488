"""The lenses of a document: the core's short lines (``attune.models.advice.lens``),
each with its tooltip, then the last run and a "Run…" lens.

Every lens carries its command (``attune.server.showDetails``, or the client's run
command for "Run…") directly, so no client ever shows a blank lens or
``!!MISSING: command!!`` waiting for a resolve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .analysis import Analysis
from .protocol import RUN_TASK_CLIENT, SHOW_DETAILS

if TYPE_CHECKING:
    from .settings import LensSettings


@dataclass(frozen=True)
class Lens:
    title: str
    tooltip: str | None = None
    command: str = SHOW_DETAILS


# Shown when a task can run here (an API key, or Claude Code on PATH).
RUN_LENS = Lens(
    "Run…",
    "Run a task over this file: pick it, see its cost per stage, then run (API key or Claude Code).",
    RUN_TASK_CLIENT,
)


def lens_texts(
    analysis: Analysis,
    context: Any,
    strategy_problem: str | None,
    settings: LensSettings,
    exact_tokens: int | None = None,
) -> list[Lens]:
    """The lenses top to bottom; never empty, never a blank title. ``context`` is the
    core's ``EstimateContext`` (strategy, calibration, subscription block)."""
    from attune.models.advice import advise, lens_lines
    from attune.models.formatting import format_count

    if strategy_problem is not None:
        return [
            Lens(
                f"Attune: strategy file invalid — {strategy_problem}; run `attune auth reset` or fix the file",
                "Until the strategy file can be read, Attune cannot size or price this file.",
            )
        ]
    if not analysis.analysed:
        return [Lens(f"Attune: not analysed — {analysis.problem}")]
    loc = analysis.loc
    assert loc is not None  # analysed
    advice = advise(
        context, loc.code_lines, language=loc.language, size_bytes=loc.size_bytes, exact_tokens=exact_tokens
    )
    parts = tuple(settings.show)
    lines = lens_lines(advice, generated=bool(loc.generated), parts=parts)
    if not lines:
        return [Lens(f"Attune: {format_count(loc.code_lines)} lines of code (no parts chosen in attune.lens.show)")]
    return [Lens(line.title, line.tooltip) for line in lines]


def make_lenses(uri: str, lenses: list[Lens]) -> list[types.CodeLens]:
    top = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    return [
        types.CodeLens(
            range=top,
            command=types.Command(
                title=lens.title, command=lens.command, arguments=[{"uri": uri}], tooltip=lens.tooltip
            ),
        )
        for lens in lenses
    ]
