"""The adaptive router: picks a model per workflow stage from telemetry."""

from attune.models.routing.router import AdaptiveModelRouter, ModelPerformance, RoutingDecision

__all__ = ["AdaptiveModelRouter", "ModelPerformance", "RoutingDecision"]
