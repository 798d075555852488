"""A module's tokens from its size, calibrated where calibration knows the language.

The rule (``module_tokens``), best predictor first:

1. the language is calibrated and the file's bytes are known: tokens per byte x
   bytes. Bytes predict better than lines: the whole file is sent, comments and
   blank lines included, and a line's length varies more than a byte's tokens;
2. the language is calibrated, bytes unknown: tokens per line x code lines;
3. otherwise the strategy's ``loc_to_tokens_multiplier`` x code lines (not calibrated;
   ``low == high == tokens``: no interval is known).

Pure functions: no I/O, nothing imported beyond the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from attune.models.calibration.model import Calibration, RateInterval
from attune.models.formatting import format_count, plural
from attune.models.pricing.pipeline import OutputRule


@dataclass(frozen=True)
class ModuleTokens:
    """A module's estimated tokens, the interval around them, and the label saying
    what they rest on (``"calibrated: Python, 40 files"`` or ``"default 4 tokens/line"``)."""

    tokens: int
    low: int
    high: int
    calibrated: bool
    basis: str


def _scaled(rate: RateInterval, size: int) -> tuple[int, int, int]:
    return round(rate.value * size), math.floor(rate.low * size), math.ceil(rate.high * size)


def module_tokens(
    lines: int,
    *,
    language: str | None,
    size_bytes: int | None,
    multiplier: float,
    calibration: Calibration | None,
) -> ModuleTokens:
    """The tokens of a module of ``lines`` code lines and ``size_bytes`` bytes in
    ``language`` (loc's names, e.g. ``"Python"``), by the rule in the module doc."""
    rates = calibration.languages.get(language) if calibration is not None and language else None
    if rates is None or language is None:
        tokens = int(lines * multiplier)  # as AuthStrategy.estimate_tokens
        return ModuleTokens(tokens, tokens, tokens, False, f"default {multiplier:g} tokens/line")
    if size_bytes is not None:
        tokens, low, high = _scaled(rates.tokens_per_byte, size_bytes)
    else:
        tokens, low, high = _scaled(rates.tokens_per_line, lines)
    return ModuleTokens(
        tokens, min(low, tokens), max(high, tokens), True, f"calibrated: {language}, {plural(rates.files, 'file')}"
    )


def describe_tokens(mt: ModuleTokens) -> str:
    """``"≈ 31,200 tokens (calibrated: Python, 40 files)"``."""
    return f"≈ {format_count(mt.tokens)} tokens ({mt.basis})"


def stage_output_rules(calibration: Calibration | None, task: str) -> dict[str, OutputRule]:
    """Stage name -> calibrated output rule (base + ratio x module tokens), for the
    stages of ``task`` that have one."""
    if calibration is None:
        return {}
    prefix = f"{task}/"
    return {
        key[len(prefix) :]: OutputRule(ratio=stage.value, base=stage.base_tokens)
        for key, stage in calibration.output_ratios.items()
        if key.startswith(prefix)
    }
