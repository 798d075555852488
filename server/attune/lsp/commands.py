"""The ``attune.server.*`` commands: argument models and what each one does.

Arguments come as one object (VS Code sends ``arguments: [{...}]``); a bare URI
string is accepted where the command takes a URI. Bad arguments raise
``InvalidParams`` naming the field; a user-facing failure (no API key, no backup,
an invalid strategy file) raises ``RequestFailed`` with the message to show.
Everything is answered by the core; this module only translates.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Optional

from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError, model_validator
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from attune.models.strategy.model import AuthMode, SubscriptionTier

from .breaker_view import breaker_payload

if TYPE_CHECKING:
    from .server import AttuneServer

logger = logging.getLogger(__name__)


class RequestFailed(JsonRpcException):
    """LSP's RequestFailed (-32803): the arguments were fine, the operation was not."""

    CODE = -32803
    MESSAGE = "Request failed"


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoArgs(_Args):
    pass


class SetupArgs(_Args):
    tier: SubscriptionTier
    mode: AuthMode
    prefer_subscription: Optional[StrictBool] = None
    small_module_threshold: Optional[StrictInt] = None
    medium_module_threshold: Optional[StrictInt] = None
    loc_to_tokens_multiplier: Optional[StrictFloat | StrictInt] = None


class ResetArgs(_Args):
    confirm: StrictBool = False


class RestoreArgs(_Args):
    backup: Optional[StrictStr] = None


class UriArgs(_Args):
    uri: StrictStr


class ShowDetailsArgs(UriArgs):
    """``tier``/``mode``: details for the saved strategy with these replaced (a
    "what if", e.g. the setup wizard's plan being chosen); nothing is saved."""

    tier: Optional[SubscriptionTier] = None
    mode: Optional[AuthMode] = None


class ResetBreakerArgs(_Args):
    provider: Optional[StrictStr] = None
    tier: Optional[StrictStr] = None

    @model_validator(mode="after")
    def _tier_needs_provider(self) -> "ResetBreakerArgs":
        if self.tier is not None and self.provider is None:
            raise ValueError("tier given without provider (e.g. {\"provider\": \"anthropic\", \"tier\": \"cheap\"})")
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
        from attune.models.strategy.model import describe_validation_error

        raise JsonRpcInvalidParams(f"{command}: invalid arguments: {describe_validation_error(exc)}") from None


# ---- strategy -----------------------------------------------------------------

def setup_auth(args: SetupArgs) -> dict[str, Any]:
    from attune.models.strategy.backups import apply_setup

    given = args.model_dump(mode="json", exclude_none=True)
    given["subscription_tier"] = given.pop("tier")
    given["default_mode"] = given.pop("mode")
    try:
        result = apply_setup(given)  # a corrupt current file is kept aside, never deleted
    except ValueError as exc:
        raise JsonRpcInvalidParams(f"attune.server.setupAuth: invalid setting: {exc}") from None
    logger.info("Strategy saved to %s (previous backed up to %s)", result.path, result.backup)
    return result.current or {}


def reset_auth(args: ResetArgs) -> dict[str, Any]:
    from attune.models.strategy.backups import reset_strategy

    if not args.confirm:
        raise JsonRpcInvalidParams('attune.server.resetAuth: refusing without {"confirm": true}; '
                                   "nothing was changed")
    result = reset_strategy()
    logger.info("Strategy reset; previous backed up to %s", result.backup)
    return result.to_dict()


def restore_auth(args: RestoreArgs) -> dict[str, Any]:
    from attune.models.strategy.model import StrategyFileError
    from attune.models.strategy.backups import restore_strategy

    try:
        result = restore_strategy(args.backup)
    except FileNotFoundError as exc:
        raise RequestFailed(f"attune.server.restoreAuth: {exc}") from None
    except StrategyFileError as exc:
        raise RequestFailed(f"attune.server.restoreAuth: {exc}") from None
    return result.to_dict()


def auth_status() -> dict[str, Any]:
    from attune.models.strategy.model import strategy_status
    from attune.models.strategy.model import StrategyFileError

    try:
        return strategy_status()
    except StrategyFileError as exc:
        raise RequestFailed(f"attune.server.authStatus: {exc}") from None


# ---- per document -------------------------------------------------------------

def _strategy_or_fail(server: "AttuneServer", command: str) -> Any:
    watcher = server.strategy_watcher
    watcher.check()  # a command may run before the next poll tick
    if watcher.problem is not None:
        raise RequestFailed(f"{command}: strategy file invalid — {watcher.problem}; "
                            "run `attune auth reset` or fix the file")
    return watcher.strategy


async def _analysed(server: "AttuneServer", command: str, uri: str) -> Any:
    analysis = await server.analyses.get(uri)
    if not analysis.analysed:
        raise RequestFailed(f"{command}: {uri} not analysed — {analysis.problem}")
    return analysis


async def recommend(server: "AttuneServer", args: UriArgs) -> dict[str, Any]:
    from attune.models.strategy.reports import report_for_loc

    strategy = _strategy_or_fail(server, "attune.server.recommend")
    analysis = await _analysed(server, "attune.server.recommend", args.uri)
    return report_for_loc(analysis.path, analysis.loc, strategy)


def _what_if(strategy: Any, args: ShowDetailsArgs) -> tuple[Any, dict[str, str]]:
    """The strategy with the given tier/mode replaced (in memory only) and what was replaced."""
    from attune.models.strategy.model import AuthStrategy

    overrides = {field: value.value for field, value in (("subscription_tier", args.tier),
                                                         ("default_mode", args.mode)) if value is not None}
    if not overrides:
        return strategy, {}
    try:
        return AuthStrategy.from_dict({**strategy.to_dict(), **overrides}), overrides
    except ValueError as exc:
        raise JsonRpcInvalidParams(f"attune.server.showDetails: invalid setting: {exc}") from None


async def show_details(server: "AttuneServer", args: ShowDetailsArgs) -> dict[str, Any]:
    from attune.models.pricing.pipeline import pipeline_description
    from attune.models.strategy.reports import GENERATED_CAUTION, report_for_loc

    strategy, what_if = _what_if(_strategy_or_fail(server, "attune.server.showDetails"), args)
    analysis = await _analysed(server, "attune.server.showDetails", args.uri)
    lines = analysis.loc.code_lines
    exact = server.analyses.exact_for(analysis)
    details = {
        "uri": args.uri,
        "report": report_for_loc(analysis.path, analysis.loc, strategy),
        "pros_cons": strategy.get_pros_cons(lines),
        "formula": pipeline_description(),
        "thresholds": {
            "small_module_threshold": strategy.small_module_threshold,
            "medium_module_threshold": strategy.medium_module_threshold,
            "loc_to_tokens_multiplier": strategy.loc_to_tokens_multiplier,
        },
        "exact_tokens": exact,
        "caution": GENERATED_CAUTION if analysis.loc.generated else None,
        "what_if": what_if or None,
    }
    if server.settings.details.showMessage:
        report = details["report"]
        unsaved = f" (if {', '.join(f'{k} = {v}' for k, v in what_if.items())}; not saved)" if what_if else ""
        server.show_info(f"Attune: {report['category']} module, {lines:,} lines of code → "
                         f"{report['mode']}{unsaved}. {report['reason']}")
    return details


async def count_tokens(server: "AttuneServer", args: UriArgs) -> dict[str, Any]:
    """The exact count of the document's current text through the shared breaker.
    The key and base URL come from the server's environment only."""
    analysis = await server.analyses.get(args.uri)
    text = server.analyses.text_of(args.uri)
    if text is None:
        if not analysis.analysed:
            raise RequestFailed(f"attune.server.countTokens: {args.uri} not analysed — {analysis.problem}")
        text = await asyncio.to_thread(_read_text, analysis.path)
    from attune.models.llm.executor import acount_tokens
    from attune.models.llm.errors import ProviderError

    try:
        tokens = await acount_tokens(text)
    except ProviderError as exc:
        raise RequestFailed(f"attune.server.countTokens: {exc}") from None
    server.analyses.exact_tokens[args.uri] = (server.analyses.content_key(analysis), tokens)
    server.request_lens_refresh()
    return {"uri": args.uri, "tokens": tokens, "exact": True}


def _read_text(path: str) -> str:
    with open(path, "rb") as fh:
        return fh.read().decode("utf-8", "replace")


# ---- breaker ------------------------------------------------------------------

async def breaker_status(server: "AttuneServer") -> dict[str, Any]:
    breaker = await asyncio.to_thread(server.breaker_watcher.breaker)
    return breaker_payload(await asyncio.to_thread(breaker.get_status), full=True)


async def reset_breaker(server: "AttuneServer", args: ResetBreakerArgs) -> dict[str, Any]:
    breaker = await asyncio.to_thread(server.breaker_watcher.breaker)
    reset = await asyncio.to_thread(breaker.reset, args.provider, args.tier)
    await server.breaker_watcher.check()  # tell the client now, not at the next tick
    return {"reset": list(reset or []), **(await breaker_status(server))}
