"""``attune.models.auth_strategy``: the module path the seed documents name for the
auth strategy. It re-exports ``attune.models.strategy.model``, where the rules live."""

from attune.models.strategy.model import (
    API_CONTEXT_WINDOW,
    AUTH_STRATEGY_FILE,
    SUBSCRIPTION_CONTEXT_WINDOW,
    TIER_LABELS,
    AuthMode,
    AuthStrategy,
    Recommendation,
    StrategyFileError,
    SubscriptionTier,
    get_auth_strategy,
    get_module_size_category,
)

__all__ = [
    "API_CONTEXT_WINDOW",
    "AUTH_STRATEGY_FILE",
    "SUBSCRIPTION_CONTEXT_WINDOW",
    "TIER_LABELS",
    "AuthMode",
    "AuthStrategy",
    "Recommendation",
    "StrategyFileError",
    "SubscriptionTier",
    "get_auth_strategy",
    "get_module_size_category",
]
