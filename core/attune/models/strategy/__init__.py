"""The auth strategy: the user's plan and mode, the rules that recommend subscription
or API per module (``model``), its backups (``backups``) and the one-file report row
that ``attune auth recommend``, ``attune scan`` and the editor show (``reports``)."""

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
    strategy_file_path,
    strategy_status,
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
    "strategy_file_path",
    "strategy_status",
]
