"""``attune.models.adaptive_routing``: the module path the seed documents name for the
router. It re-exports ``attune.models.routing.router``, where the router lives."""

from attune.models.routing.router import AdaptiveModelRouter, ModelPerformance, RoutingDecision

__all__ = ["AdaptiveModelRouter", "ModelPerformance", "RoutingDecision"]
