"""The model registry: which model each provider runs per tier, and what it costs.

Default prices are Anthropic's published per-million-token list prices as of
``PRICES_AS_OF``. A user can override them with ``pricing.json`` in the config
directory (see README, "Prices"); the file is validated and a bad file is an error
that names it, never silently ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from attune.models._internal import paths
from attune.models._internal.safe_read import MIB, read_regular_file
from attune.models.errors import AttuneError, FileReadError

PRICES_AS_OF = "2026-02-17"
DEFAULT_PROVIDER = "anthropic"
#: A pricing.json larger than this is refused unread (docs/limits.md).
MAX_PRICING_FILE_BYTES = MIB
# The highest price pricing.json may set, in dollars per million tokens: 2,000 times
# today's dearest output price, and low enough that no estimate can overflow a float.
MAX_PRICE_PER_MILLION = 10_000.0


@dataclass(frozen=True)
class ModelInfo:
    id: str
    provider: str
    tier: str
    display_name: str
    input_cost_per_million: float
    output_cost_per_million: float
    context_window: int
    max_output_tokens: int

    def cost(self, tokens_input: int, tokens_output: int) -> float:
        """Dollars for one call with these token counts."""
        return (tokens_input * self.input_cost_per_million + tokens_output * self.output_cost_per_million) / 1_000_000


MODEL_REGISTRY: dict[str, dict[str, ModelInfo]] = {
    "anthropic": {
        "cheap": ModelInfo("claude-haiku-4-5", "anthropic", "cheap", "Claude Haiku 4.5", 1.0, 5.0, 200_000, 64_000),
        "capable": ModelInfo(
            "claude-sonnet-4-6", "anthropic", "capable", "Claude Sonnet 4.6", 3.0, 15.0, 1_000_000, 128_000
        ),
        "premium": ModelInfo(
            "claude-opus-4-6", "anthropic", "premium", "Claude Opus 4.6", 5.0, 25.0, 1_000_000, 128_000
        ),
    }
}


class PricingFileError(AttuneError, ValueError):
    """``pricing.json`` exists but cannot be used; the message names the file and why."""


def _validated_overrides(path: Path, raw: Any) -> dict[str, dict[str, float]]:
    # {"as_of": "...", "models": {"<model id>": {"input": 3.0, "output": 15.0}}}
    from pydantic import BaseModel, ConfigDict, Field, ValidationError

    class _Price(BaseModel):
        model_config = ConfigDict(extra="forbid")
        # dollars per million tokens
        input: float = Field(ge=0, le=MAX_PRICE_PER_MILLION, allow_inf_nan=False)
        output: float = Field(ge=0, le=MAX_PRICE_PER_MILLION, allow_inf_nan=False)

    class _PricingFile(BaseModel):
        model_config = ConfigDict(extra="forbid")
        as_of: str | None = None
        models: dict[str, _Price]

    try:
        parsed = _PricingFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise PricingFileError(f"{path}: invalid pricing file ({problems})") from None
    return {mid: {"input": p.input, "output": p.output} for mid, p in parsed.models.items()}


_cache: dict[str, Any] = {"key": None, "registry": None}


def effective_registry() -> dict[str, dict[str, ModelInfo]]:
    """``MODEL_REGISTRY`` with the user's ``pricing.json`` applied (cached by mtime)."""
    path = paths.pricing_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return MODEL_REGISTRY
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if _cache["key"] == key:
        cached: dict[str, dict[str, ModelInfo]] = _cache["registry"]
        return cached
    try:
        raw = json.loads(read_regular_file(path, MAX_PRICING_FILE_BYTES).decode("utf-8"))
    except FileReadError as exc:
        raise PricingFileError(str(exc)) from None
    except (OSError, ValueError) as exc:  # ValueError: bad UTF-8, bad JSON, a number of over 4,300 digits
        raise PricingFileError(f"{path}: not readable JSON ({exc})") from None
    overrides = _validated_overrides(path, raw)
    known = {m.id for tiers in MODEL_REGISTRY.values() for m in tiers.values()}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise PricingFileError(f"{path}: unknown model id(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    registry = {
        provider: {
            tier: replace(
                info,
                input_cost_per_million=overrides[info.id]["input"],
                output_cost_per_million=overrides[info.id]["output"],
            )
            if info.id in overrides
            else info
            for tier, info in tiers.items()
        }
        for provider, tiers in MODEL_REGISTRY.items()
    }
    _cache.update(key=key, registry=registry)
    return registry


def get_model(provider: str, tier: str) -> ModelInfo | None:
    """The model a provider runs for a tier, or None when there is none."""
    return effective_registry().get(provider.lower(), {}).get(tier.lower())


def find_model(model_id: str) -> ModelInfo | None:
    for tiers in effective_registry().values():
        for info in tiers.values():
            if info.id == model_id:
                return info
    return None


def get_pricing_for_model(model_id: str) -> dict[str, float] | None:
    """``{"input": $/MTok, "output": $/MTok}`` for a registered model id, else None."""
    info = find_model(model_id)
    if info is None:
        return None
    return {"input": info.input_cost_per_million, "output": info.output_cost_per_million}
