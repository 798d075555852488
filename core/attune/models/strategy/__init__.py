"""The auth strategy: the user's plan and mode, the rules that recommend subscription
or API per module (``model``), its backups (``backups``) and the price of a task
under it (``estimates``). The package exports ``model``'s public names."""

from attune.models.strategy.model import *  # noqa: F403
from attune.models.strategy.model import __all__ as __all__
