"""The server's settings (section ``attune``), validated field by field.

They arrive in ``initializationOptions`` and ``workspace/didChangeConfiguration``.
A missing, partial or invalid value falls back to its default with one logged
warning naming the field, so a typo in settings.json never turns the lenses off.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger(__name__)

LensPart = Literal["size", "mode", "cost"]
ALL_PARTS: tuple[LensPart, ...] = ("size", "mode", "cost")


class LensSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    enabled: bool = True
    debounceMs: int = Field(300, ge=0, le=10_000)
    maxFileSizeMB: float = Field(5.0, gt=0, le=1024, allow_inf_nan=False)
    show: tuple[LensPart, ...] = ALL_PARTS

    @property
    def max_bytes(self) -> int:
        return int(self.maxFileSizeMB * 1024 * 1024)


class DetailsSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    # Clients that render showDetails' result themselves (the VS Code extension)
    # turn this off; other editors get a one-line window/showMessage on a lens click.
    showMessage: bool = True


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    lens: LensSettings = LensSettings()
    details: DetailsSettings = DetailsSettings()


def _section(raw: Any) -> dict[str, Any]:
    """Accept both ``{"attune": {...}}`` (what VS Code pushes) and the bare section."""
    if not isinstance(raw, dict):
        return {}
    inner = raw.get("attune")
    return inner if isinstance(inner, dict) else raw


def _validated(model: type[BaseModel], raw: Any, where: str) -> BaseModel:
    """``model`` from ``raw``, dropping each invalid field (with a warning) instead of all."""
    if raw is None:
        return model()
    if not isinstance(raw, dict):
        logger.warning("Settings: attune.%s must be an object, got %r; using defaults", where, raw)
        return model()
    data = dict(raw)
    while True:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
            for field in sorted(bad):
                logger.warning(
                    "Settings: invalid attune.%s.%s = %r (%s); using the default",
                    where,
                    field,
                    data.get(field),
                    next(e["msg"] for e in exc.errors() if e["loc"] and str(e["loc"][0]) == field),
                )
                data.pop(field, None)
            if not bad:  # a model-level error: nothing field-specific to drop
                logger.warning("Settings: invalid attune.%s (%s); using defaults", where, exc)
                return model()


def parse_settings(raw: Any) -> Settings:
    """Settings from a client payload; never raises."""
    section = _section(raw)
    return Settings(
        lens=_validated(LensSettings, section.get("lens"), "lens"),
        details=_validated(DetailsSettings, section.get("details"), "details"),
    )
