"""What calls cost: the model registry with its prices (``registry``), which tier each
task needs (``tasks``) and the tasks as priced pipelines of stages (``pipeline``, read
from ``task_defs/<task>.toml``)."""

from attune.models.pricing.registry import (
    MODEL_REGISTRY,
    ModelInfo,
    PricingFileError,
    get_model,
    get_pricing_for_model,
)
from attune.models.pricing.tasks import (
    CAPABLE_TASKS,
    CHEAP_TASKS,
    PREMIUM_TASKS,
    REALTIME_REQUIRED_TASKS,
    TASK_TIER_MAP,
    TaskType,
    get_tier_for_task,
    normalize_task_type,
)

__all__ = [
    "CAPABLE_TASKS",
    "CHEAP_TASKS",
    "MODEL_REGISTRY",
    "PREMIUM_TASKS",
    "REALTIME_REQUIRED_TASKS",
    "TASK_TIER_MAP",
    "ModelInfo",
    "PricingFileError",
    "TaskType",
    "get_model",
    "get_pricing_for_model",
    "get_tier_for_task",
    "normalize_task_type",
]
