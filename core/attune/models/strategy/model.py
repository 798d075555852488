"""The authentication strategy: subscription or API, per module, and what it costs.

``AuthStrategy`` is validated by pydantic; its rules (size category, recommended
mode, token and cost estimates, pros and cons) live here and nowhere else: the CLI,
the language server and the extension show what these functions return.

Persistence: ``save()`` writes atomically (temp file, fsync, rename) with mode 0600
under a file lock; ``load()`` of a missing file gives defaults, of a corrupt or
invalid one raises ``StrategyFileError`` and leaves the file untouched. Resets and
restores (which always back up first) are in ``attune.models.strategy.backups``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from attune.models._internal import paths
from attune.models._internal.atomic_file import atomic_write_json
from attune.models._internal.safe_read import MIB, read_regular_file
from attune.models.errors import AttuneError, FileReadError
from attune.models.formatting import (
    format_count,
    format_duration_short,
    format_money,
    format_tokens_short,
    plural,
)
from attune.models.pricing.pipeline import DEFAULT_TASK, PRICES_AS_OF, OutputRule, price_pipeline

if TYPE_CHECKING:
    from filelock import BaseFileLock

SUBSCRIPTION_CONTEXT_WINDOW = 200_000
API_CONTEXT_WINDOW = 1_000_000

DEFAULT_SMALL_THRESHOLD = 500
DEFAULT_MEDIUM_THRESHOLD = 2000
DEFAULT_TOKENS_PER_LINE = 4.0
# The bounds of the numeric fields (docs/limits.md). Beyond them a strategy stops
# meaning anything, and lines x multiplier x price could overflow a float.
MAX_THRESHOLD_LINES = 10_000_000
MIN_TOKENS_PER_LINE = 0.1
MAX_TOKENS_PER_LINE = 100.0
# Above this share of the user's block budget, AUTO sends medium and large modules to
# the API so the rest of the block stays free for interactive work.
BLOCK_NEARLY_USED = 0.9

# The strategy file as of import. Functions re-resolve it (paths.auth_strategy_path())
# so a process that changes ATTUNE_HOME later still writes where it expects.
AUTH_STRATEGY_FILE: Path = paths.auth_strategy_path()


class SubscriptionTier(str, Enum):
    FREE = "free"
    PRO = "pro"
    MAX = "max"
    TEAM = "team"
    ENTERPRISE = "enterprise"
    API_ONLY = "api_only"

    @property
    def label(self) -> str:
        return TIER_LABELS[self]

    @property
    def has_subscription_quota(self) -> bool:
        """Free has no quota for coding tools and api_only has no subscription at all."""
        return self not in (SubscriptionTier.FREE, SubscriptionTier.API_ONLY)


TIER_LABELS = {
    SubscriptionTier.FREE: "Free",
    SubscriptionTier.PRO: "Pro",
    SubscriptionTier.MAX: "Max",
    SubscriptionTier.TEAM: "Team",
    SubscriptionTier.ENTERPRISE: "Enterprise",
    SubscriptionTier.API_ONLY: "None — API only",
}


class AuthMode(str, Enum):
    SUBSCRIPTION = "subscription"
    API = "api"
    AUTO = "auto"


def get_module_size_category(
    lines: int, small: int = DEFAULT_SMALL_THRESHOLD, medium: int = DEFAULT_MEDIUM_THRESHOLD
) -> str:
    """'small' below ``small``, 'medium' below ``medium``, else 'large' (499/500/2000)."""
    if lines < small:
        return "small"
    if lines < medium:
        return "medium"
    return "large"


#: What to do about an unusable strategy file (the default advice of StrategyFileError).
STRATEGY_FILE_ADVICE = (
    "The file was left as it is: fix it by hand, or run `attune auth reset` to move it aside and start over."
)

#: A strategy file or backup larger than this is refused unread (docs/limits.md).
MAX_STRATEGY_FILE_BYTES = MIB


class StrategyFileError(AttuneError):
    """The strategy file (or a backup of it) exists but cannot be used. The file is
    left as it is; ``advice`` says what to do instead."""

    def __init__(self, path: Path, problem: str, advice: str = STRATEGY_FILE_ADVICE):
        self.path = Path(path)
        self.problem = problem
        self.advice = advice
        super().__init__(f"{self.path}: {problem}. {advice}")


def describe_validation_error(exc: ValidationError) -> str:
    """'small_module_threshold: Input should be greater than 0; …' — field names first."""
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)


@dataclass(frozen=True)
class SubscriptionBlock:
    """The current 5-hour block of the subscription, as Claude Code's own logs show it:
    the tokens used so far and when the block resets (``attune.models.usage``)."""

    used_tokens: int
    resets_at: datetime

    def seconds_left(self, now: datetime | None = None) -> float:
        return (self.resets_at - (now or datetime.now(UTC))).total_seconds()


class Recommendation(BaseModel):
    """A mode with the one-line reason every face shows verbatim."""

    model_config = ConfigDict(frozen=True)

    mode: AuthMode
    reason: str
    # which rule decided: explicit_mode, no_subscription, exceeds_subscription_context,
    # small_module, subscription_block_nearly_used, prefer_subscription, prefer_api
    rule: str
    lines: int
    category: str
    tokens: int

    def to_dict(self) -> dict[str, Any]:
        return {**self.model_dump(), "mode": self.mode.value}


class AuthStrategy(BaseModel):
    """Which plan the user has and how Attune should choose between it and the API.

    ``cost_optimization`` has no effect: it is kept so strategy files written from the
    seed documents still load (docs/formulas.md says why it was not given one)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    subscription_tier: SubscriptionTier = SubscriptionTier.API_ONLY
    default_mode: AuthMode = AuthMode.AUTO
    small_module_threshold: int = Field(DEFAULT_SMALL_THRESHOLD, gt=0, le=MAX_THRESHOLD_LINES)
    medium_module_threshold: int = Field(DEFAULT_MEDIUM_THRESHOLD, gt=0, le=MAX_THRESHOLD_LINES)
    loc_to_tokens_multiplier: float = Field(
        DEFAULT_TOKENS_PER_LINE, ge=MIN_TOKENS_PER_LINE, le=MAX_TOKENS_PER_LINE, allow_inf_nan=False
    )
    subscription_block_budget_tokens: int | None = Field(
        None,
        gt=0,
        description="The tokens your plan allows per 5-hour block, if you know them. Anthropic does not "
        "publish limits as token counts, so Attune never assumes one; with a budget set, AUTO sends "
        "medium and large modules to the API once the current block is over 90% used.",
    )
    setup_completed: bool = False
    prefer_subscription: bool = True
    cost_optimization: bool = Field(
        True,
        description="No effect: kept so strategy files written from the seed documents, which have it, "
        "still load. What the recommendation weighs is prefer_subscription and default_mode.",
    )
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator(
        "small_module_threshold",
        "medium_module_threshold",
        "loc_to_tokens_multiplier",
        "subscription_block_budget_tokens",
        mode="before",
    )
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        # pydantic would read true as 1; a boolean here is always a mistake.
        if isinstance(value, bool):
            raise ValueError("must be a number, not true/false")
        return value

    @field_validator("metadata")
    @classmethod
    def _json_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"must be JSON-serialisable ({exc})") from None
        return value

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> AuthStrategy:
        if self.small_module_threshold >= self.medium_module_threshold:
            raise ValueError(
                f"small_module_threshold ({self.small_module_threshold}) must be less than "
                f"medium_module_threshold ({self.medium_module_threshold})"
            )
        return self

    # ---- sizing -------------------------------------------------------------

    def get_module_size_category(self, lines: int) -> str:
        return get_module_size_category(lines, self.small_module_threshold, self.medium_module_threshold)

    def estimate_tokens(self, lines: int) -> int:
        return int(lines * self.loc_to_tokens_multiplier)

    # ---- which modes the plan offers ---------------------------------------

    @property
    def offered_modes(self) -> tuple[AuthMode, ...]:
        """The modes this plan can run a module in: the API always, the subscription only
        on a plan with subscription quota (not ``free``, not ``api_only``). A mode that is
        not offered is never recommended nor priced, so no face (CLI, scan, lenses,
        wizards) shows a subscription figure to a plan that has none."""
        if self.subscription_tier.has_subscription_quota:
            return (AuthMode.SUBSCRIPTION, AuthMode.API)
        return (AuthMode.API,)

    def offers(self, mode: AuthMode | str) -> bool:
        return AuthMode(mode) in self.offered_modes

    # ---- recommendation -----------------------------------------------------

    def get_recommended_mode(self, lines: int) -> AuthMode:
        return self.recommend(lines).mode

    def block_pressure(self, block: SubscriptionBlock | None, now: datetime | None = None) -> float | None:
        """The share of the block budget used in the current block; None without a
        budget, without a block, or once the block has reset."""
        budget = self.subscription_block_budget_tokens
        if budget is None or block is None or block.seconds_left(now) <= 0:
            return None
        return block.used_tokens / budget

    def block_nearly_used(self, block: SubscriptionBlock | None, now: datetime | None = None) -> bool:
        """Over ``BLOCK_NEARLY_USED`` of the budget: AUTO then sends medium and large
        modules to the API."""
        pressure = self.block_pressure(block, now)
        return pressure is not None and pressure > BLOCK_NEARLY_USED

    def recommend(
        self,
        lines: int,
        task: str = DEFAULT_TASK,
        *,
        tokens: int | None = None,
        block: SubscriptionBlock | None = None,
        now: datetime | None = None,
        output_rules: Mapping[str, OutputRule] | None = None,
    ) -> Recommendation:
        """The rules of the mode comparison, in order; the first that applies decides.
        ``task`` (default ``document``) only changes the API price the reason quotes.
        ``tokens`` is the module's token estimate when a better one than lines x the
        multiplier is known (calibrated); ``block`` is the subscription's current
        5-hour block, which matters only with ``subscription_block_budget_tokens`` set;
        ``output_rules`` (calibrated, per stage) price the API figure the reason quotes."""
        category = self.get_module_size_category(lines)
        tokens = self.estimate_tokens(lines) if tokens is None else tokens
        size = f"{category.capitalize()} module ({plural(lines, 'line')})"

        def decide(mode: AuthMode, rule: str, reason: str) -> Recommendation:
            return Recommendation(mode=mode, reason=reason, rule=rule, lines=lines, category=category, tokens=tokens)

        if self.default_mode is not AuthMode.AUTO and self.offers(self.default_mode):
            return decide(
                self.default_mode,
                "explicit_mode",
                f"Your strategy always uses the {_mode_name(self.default_mode)} (default mode "
                f"{self.default_mode.value}); auto-selection is off.",
            )
        tier = self.subscription_tier
        api_cost = format_money(self._api_cost(tokens, task, output_rules))
        if not self.offers(AuthMode.SUBSCRIPTION):
            why = (
                "your plan is API only"
                if tier is SubscriptionTier.API_ONLY
                else "the Free plan has no quota for coding tools"
            )
            unused = (
                " (your default mode, subscription, needs a plan with subscription quota)"
                if self.default_mode is AuthMode.SUBSCRIPTION
                else ""
            )
            return decide(
                AuthMode.API,
                "no_subscription",
                f"{size}: {why}, so it runs on the API (≈{api_cost}){unused}.",
            )
        if tokens > SUBSCRIPTION_CONTEXT_WINDOW:
            return decide(
                AuthMode.API,
                "exceeds_subscription_context",
                f"{size}: ≈{format_count(tokens)} tokens is over the subscription's "
                f"{format_tokens_short(SUBSCRIPTION_CONTEXT_WINDOW)} context; the API's "
                f"{format_tokens_short(API_CONTEXT_WINDOW)} window "
                + (
                    "fits it."
                    if tokens <= API_CONTEXT_WINDOW
                    else "is the largest there is, and it is still too small: split the module."
                ),
            )
        if category == "small":
            return decide(
                AuthMode.API,
                "small_module",
                f"{size}: cheap on the API (≈{api_cost}), and it saves your subscription quota.",
            )
        if self.prefer_subscription and block is not None and self.block_nearly_used(block, now):
            pressure = self.block_pressure(block, now) or 0.0
            return decide(
                AuthMode.API,
                "subscription_block_nearly_used",
                f"{size}: your subscription block is {pressure:.0%} used (resets in "
                f"{format_duration_short(block.seconds_left(now))}), so it runs on the API (≈{api_cost}).",
            )
        if self.prefer_subscription:
            return decide(
                AuthMode.SUBSCRIPTION,
                "prefer_subscription",
                f"{size}: your {tier.label} subscription runs it at no extra cost (≈{api_cost} on the API).",
            )
        return decide(AuthMode.API, "prefer_api", f"{size}: you prefer the API over your subscription (≈{api_cost}).")

    # ---- cost ---------------------------------------------------------------

    def _api_cost(
        self, tokens: int, task: str = DEFAULT_TASK, output_rules: Mapping[str, OutputRule] | None = None
    ) -> float:
        return sum(stage.api_cost for stage in price_pipeline(tokens, task=task, output_rules=output_rules))

    def estimate_cost(self, lines: int, mode: AuthMode | str | None = None) -> dict[str, Any]:
        """The documentation pipeline (the ``document`` task) priced for this module.

        ``mode`` None or AUTO means the recommended mode. On the API the stages are
        priced from the registry; on a subscription the money is $0 and the same
        tokens are charged to the quota. ``fits_in_context`` compares the module's
        tokens with that mode's window (200K subscription, 1M API). A mode the plan
        does not offer (the subscription on ``free`` or ``api_only``) is a ValueError.
        """
        resolved = AuthMode(mode) if mode is not None else AuthMode.AUTO
        if resolved is AuthMode.AUTO:
            resolved = self.get_recommended_mode(lines)
        return {
            **self.estimate_cost_for_tokens(self.estimate_tokens(lines), resolved),
            "lines": lines,
            "category": self.get_module_size_category(lines),
        }

    def estimate_cost_for_tokens(self, tokens: int, mode: AuthMode | str) -> dict[str, Any]:
        """``estimate_cost`` for a module whose token count is known exactly (e.g. from
        the API's count_tokens) rather than estimated from lines. ``mode`` must be
        ``api`` or ``subscription``: auto decides from lines, which this does not have."""
        resolved = AuthMode(mode)
        if resolved is AuthMode.AUTO:
            raise ValueError("estimate_cost_for_tokens needs mode 'api' or 'subscription'")
        if not self.offers(resolved):
            raise ValueError(
                f"your plan ({self.subscription_tier.label}) has no subscription quota, so there is "
                "no subscription estimate; every module runs on the API"
            )
        stages = price_pipeline(tokens)
        on_api = resolved is AuthMode.API
        tokens_used = sum(s.input_tokens + s.output_tokens for s in stages)
        api_cost = sum(s.api_cost for s in stages)
        window = API_CONTEXT_WINDOW if on_api else SUBSCRIPTION_CONTEXT_WINDOW
        return {
            "mode": resolved.value,
            "tokens": tokens,
            "monetary_cost": round(api_cost, 6) if on_api else 0.0,
            "api_equivalent_cost": round(api_cost, 6),
            "quota_cost": 0 if on_api else tokens_used,
            "tokens_used": tokens_used,
            "context_window": window,
            "fits_in_context": tokens <= window,
            "breakdown": [s.as_dict(charged=on_api) for s in stages],
            "prices_as_of": PRICES_AS_OF,
        }

    def get_pros_cons(self, lines: int) -> dict[str, dict[str, Any]]:
        """Subscription, API and auto side by side, with their estimates (feeds the wizards).

        Each entry says whether the plan ``offered`` it; the subscription of a plan
        without quota has no pros and no estimate, only the con that says why."""
        api = self.estimate_cost(lines, AuthMode.API)
        auto = self.recommend(lines)
        tier = self.subscription_tier
        has_sub = self.offers(AuthMode.SUBSCRIPTION)
        subscription: dict[str, Any]
        if has_sub:
            sub = self.estimate_cost(lines, AuthMode.SUBSCRIPTION)
            sub_cons = [
                f"Charged to your plan's quota: ≈{format_count(sub['quota_cost'])} tokens for this module.",
                f"Context is {format_tokens_short(SUBSCRIPTION_CONTEXT_WINDOW)} tokens.",
            ]
            if not sub["fits_in_context"]:
                sub_cons.insert(0, f"This module (≈{format_count(sub['tokens'])} tokens) does not fit in it.")
            subscription = {
                "offered": True,
                "pros": [
                    "No per-token charge: $0 on top of the flat fee.",
                    "Best for large modules and continuous, high-volume work.",
                ],
                "cons": sub_cons,
                "estimate": sub,
            }
        else:
            subscription = {
                "offered": False,
                "pros": [],
                "cons": [f"Your plan ({tier.label}) has no subscription quota to use: every module runs on the API."],
                "estimate": None,
            }
        api_cons = [
            f"Pay per token: ≈{format_money(api['monetary_cost'])} for this module, and it grows with module size.",
            "Needs an API key (ANTHROPIC_API_KEY).",
        ]
        if not api["fits_in_context"]:
            api_cons.insert(0, f"This module (≈{format_count(api['tokens'])} tokens) exceeds even the 1M context.")
        api_pros = [
            f"Cheap for small modules (≈{format_money(api['monetary_cost'])} here).",
            f"{format_tokens_short(API_CONTEXT_WINDOW)}-token context for very large modules.",
        ]
        if has_sub:
            api_pros.append("Saves your subscription quota for interactive work.")
        auto_pros = (
            [
                "Picks per module: the API for small ones, your subscription for larger ones.",
                "Falls back to the API when a module will not fit the subscription's context.",
            ]
            if has_sub
            else ["Runs every module on the API, the one mode your plan has; on a plan with quota it picks per module."]
        )
        return {
            "subscription": subscription,
            "api": {"offered": True, "pros": api_pros, "cons": api_cons, "estimate": api},
            "auto": {
                "offered": True,
                "pros": auto_pros,
                "cons": ["The choice can change as a module grows past a threshold."]
                if has_sub
                else ["Nothing to choose between on this plan: it is the API."],
                "recommended_mode": auto.mode.value,
                "reason": auto.reason,
                "estimate": self.estimate_cost(lines, auto.mode),
            },
        }

    # ---- serialisation ------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuthStrategy:
        """Validate a dict (e.g. read from disk); raises ValueError naming each bad field."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ValueError(describe_validation_error(exc)) from None

    # ---- persistence --------------------------------------------------------

    def save(self, path: Path | str | None = None) -> Path:
        """Atomically replace the strategy file (mode 0600), under the file lock."""
        target = Path(path) if path is not None else paths.auth_strategy_path()
        with strategy_lock(target):
            atomic_write_json(target, self.to_dict(), mode=0o600)
        return target

    @classmethod
    def load(cls, path: Path | str | None = None) -> AuthStrategy:
        """Defaults when the file is missing; ``StrategyFileError`` when it is unusable."""
        target = Path(path) if path is not None else paths.auth_strategy_path()
        raw = read_strategy_file(target)
        if raw is None:
            return cls()
        try:
            return cls.from_dict(raw)
        except ValueError as exc:
            raise StrategyFileError(target, f"invalid strategy ({exc})") from None


def _mode_name(mode: AuthMode) -> str:
    return {AuthMode.API: "API", AuthMode.SUBSCRIPTION: "subscription", AuthMode.AUTO: "auto"}[mode]


def read_strategy_file(path: Path) -> Any | None:
    """The parsed JSON, or None when there is no file. Unreadable content raises
    StrategyFileError, as does a path that is not a regular file or a file over
    ``MAX_STRATEGY_FILE_BYTES`` (neither is read)."""
    try:
        data = read_regular_file(path, MAX_STRATEGY_FILE_BYTES)
    except FileNotFoundError:
        return None
    except FileReadError as exc:
        raise StrategyFileError(path, exc.problem) from None
    except OSError as exc:
        raise StrategyFileError(path, f"cannot be read ({exc.strerror})") from None
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise StrategyFileError(path, "is not UTF-8 text (corrupt)") from None
    except json.JSONDecodeError as exc:
        raise StrategyFileError(path, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError as exc:  # what the parser refuses beyond syntax: a number of over 4,300 digits
        raise StrategyFileError(path, f"is not usable JSON ({exc})") from None


def strategy_file_path() -> Path:
    """Where the strategy lives now (``ATTUNE_HOME`` is read on each call)."""
    return paths.auth_strategy_path()


def strategy_status() -> dict[str, Any]:
    """``to_dict()`` plus where it lives: what `attune auth status --json` and the
    language server's status command return."""
    path = strategy_file_path()
    return {**AuthStrategy.load(path).to_dict(), "path": str(path), "file_exists": path.exists()}


def strategy_lock(path: Path) -> BaseFileLock:
    """The inter-process lock guarding writes to ``path``. ``is_singleton`` gives one
    lock object per file per process: two objects on one file would block each other."""
    from filelock import FileLock

    path = Path(path).absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(f"{path}.lock", timeout=30, is_singleton=True)


def get_auth_strategy() -> AuthStrategy:
    """The saved strategy (defaults when none is saved). It never asks: interactive
    set-up is ``attune auth setup``'s job, so a server or a script never blocks here."""
    return AuthStrategy.load()


__all__ = [
    "API_CONTEXT_WINDOW",
    "AUTH_STRATEGY_FILE",
    "MAX_THRESHOLD_LINES",
    "MAX_TOKENS_PER_LINE",
    "MIN_TOKENS_PER_LINE",
    "SUBSCRIPTION_CONTEXT_WINDOW",
    "TIER_LABELS",
    "AuthMode",
    "AuthStrategy",
    "Recommendation",
    "StrategyFileError",
    "SubscriptionBlock",
    "SubscriptionTier",
    "get_auth_strategy",
    "get_module_size_category",
    "read_strategy_file",
    "strategy_file_path",
    "strategy_lock",
    "strategy_status",
]
