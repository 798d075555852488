"""``attune.models.auth_strategy``: the module path the seed documents name for the
auth strategy. It re-exports ``attune.models.strategy.model``, where the rules live."""

from attune.models.strategy.model import *  # noqa: F403
from attune.models.strategy.model import __all__ as __all__
