"""The auth strategy: the user's plan and mode, the rules that recommend subscription
or API per module (``model``), its backups (``backups``) and the one-file report row
that ``attune auth recommend``, ``attune scan`` and the editor show (``reports``).
The package exports ``model``'s public names."""

from attune.models.strategy.model import *  # noqa: F403
from attune.models.strategy.model import __all__ as __all__
