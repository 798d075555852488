"""The API-equivalent price of logged usage, from the pricing registry.

The registry holds input and output prices per million tokens. Cache tokens are
priced from the input price with Anthropic's published multipliers: a cache write
costs 1.25x the input price for the 5-minute cache and 2x for the 1-hour cache, a
cache read 0.1x. A model the registry does not know (after dropping a ``-YYYYMMDD``
date suffix) has no price: its tokens are counted, its cost is None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from attune.models.pricing.registry import ModelInfo, find_model

CACHE_WRITE_5M_MULTIPLIER = 1.25
CACHE_WRITE_1H_MULTIPLIER = 2.0
CACHE_READ_MULTIPLIER = 0.1

_DATE_SUFFIX = re.compile(r"-\d{8}$")


@dataclass(frozen=True)
class ModelUsage:
    """Summed tokens of one model in one group (a row of the aggregate query)."""

    model: str
    input: int
    output: int
    cache_creation: int
    cache_creation_1h: int  # the part of cache_creation written to the 1-hour cache
    cache_read: int
    entries: int


def price_of(model: str) -> ModelInfo | None:
    """The registry's model for a logged model id, or None when it has no price."""
    info = find_model(model)
    if info is None:
        stripped = _DATE_SUFFIX.sub("", model)
        if stripped != model:
            info = find_model(stripped)
    return info


def cost_of(usage: ModelUsage) -> float | None:
    """Dollars at API list prices; None for a model without a price."""
    info = price_of(usage.model)
    if info is None:
        return None
    per_input = info.input_cost_per_million
    cache_5m = usage.cache_creation - usage.cache_creation_1h
    dollars = (
        usage.input * per_input
        + usage.output * info.output_cost_per_million
        + cache_5m * per_input * CACHE_WRITE_5M_MULTIPLIER
        + usage.cache_creation_1h * per_input * CACHE_WRITE_1H_MULTIPLIER
        + usage.cache_read * per_input * CACHE_READ_MULTIPLIER
    )
    return dollars / 1_000_000
