"""The argument models of the ``attune.server.*`` commands, and their parsing.

Arguments come as one object (VS Code sends ``arguments: [{...}]``); a bare URI
string is accepted where the command takes a URI. Bad arguments raise
``InvalidParams`` naming the field: a URI the server cannot turn into a path
(``analysis.uri_path``), a provider the breaker refuses (the core's ``breaker_key``).
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pygls.exceptions import JsonRpcInvalidParams

from attune.models.breaker.rules import breaker_key
from attune.models.strategy.model import AuthMode, SubscriptionTier, describe_validation_error

from .analysis import uri_path


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoArgs(_Args):
    pass


class SetupArgs(_Args):
    tier: SubscriptionTier
    mode: AuthMode
    prefer_subscription: StrictBool | None = None
    small_module_threshold: StrictInt | None = None
    medium_module_threshold: StrictInt | None = None
    loc_to_tokens_multiplier: StrictFloat | StrictInt | None = None


class ResetArgs(_Args):
    confirm: StrictBool = False


class RestoreArgs(_Args):
    backup: StrictStr | None = None


class UriArgs(_Args):
    uri: StrictStr

    @field_validator("uri")
    @classmethod
    def _usable_uri(cls, uri: str) -> str:
        uri_path(uri)  # InvalidUri (a ValueError) for a file: URI with no usable path
        return uri


class ShowDetailsArgs(UriArgs):
    """``tier``/``mode``: details for the saved strategy with these replaced (a
    "what if", e.g. the setup wizard's plan being chosen); nothing is saved."""

    tier: SubscriptionTier | None = None
    mode: AuthMode | None = None


class PreviewTaskArgs(UriArgs):
    """A task (``document``, ``review``, ``explain``, ``tests``) over the file at ``uri``."""

    task: StrictStr


class RunTaskArgs(PreviewTaskArgs):
    """``confirm`` must be true for anything to be sent; ``mode`` overrides the
    strategy's recommendation (``auto`` keeps it)."""

    mode: AuthMode | None = None
    confirm: StrictBool = False


class ResetBreakerArgs(_Args):
    provider: StrictStr | None = None
    tier: StrictStr | None = None

    @model_validator(mode="after")
    def _tier_needs_provider(self) -> ResetBreakerArgs:
        if self.tier is not None and self.provider is None:
            raise ValueError('tier given without provider (e.g. {"provider": "anthropic", "tier": "cheap"})')
        if self.provider is not None:
            breaker_key(self.provider, self.tier)  # the breaker's own rule: ValueError naming the provider
        return self


def parse_args(command: str, model: type[_Args], arguments: tuple[Any, ...]) -> Any:
    """Validate ``[{...}]`` (or ``[]``, or ``["file:///…"]`` for URI commands) into ``model``."""
    if len(arguments) > 1:
        raise JsonRpcInvalidParams(f"{command}: expected one argument object, got {len(arguments)} arguments")
    raw: Any = arguments[0] if arguments else {}
    if raw is None:
        raw = {}
    if isinstance(raw, str) and issubclass(model, UriArgs):
        raw = {"uri": raw}
    if not isinstance(raw, dict):
        raise JsonRpcInvalidParams(f"{command}: expected an object argument, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise JsonRpcInvalidParams(f"{command}: invalid arguments: {describe_validation_error(exc)}") from None
