"""What running one module through the documentation pipeline costs.

The pipeline (the work Attune estimates for a module of T tokens, T = lines x
``loc_to_tokens_multiplier``):

===============  =======  ==============================  ==================
stage            tier     reads (input tokens)            writes (output)
===============  =======  ==============================  ==================
outline          cheap    T + prompt                      0.10 T
write            capable  T + outline + prompt            0.50 T
polish           premium  draft + prompt                  0.50 T
api_reference    cheap    T + prompt                      0.15 T
===============  =======  ==============================  ==================

``prompt`` is a fixed ``PROMPT_OVERHEAD_TOKENS`` of instructions per stage. Each
stage's model and prices come from the registry (``pricing.json`` overrides apply).
On the API a stage costs ``input x $in/MTok + output x $out/MTok``; on a
subscription it costs $0 and its tokens are charged to the plan's quota.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attune.models.pricing.registry import DEFAULT_PROVIDER, PRICES_AS_OF, effective_registry
from attune.models.pricing.tasks import TaskType, get_tier_for_task

PROMPT_OVERHEAD_TOKENS = 300


@dataclass(frozen=True)
class PipelineStage:
    name: str
    task: TaskType
    reads_module: float  # fraction of the module's tokens read
    reads_previous: bool  # also reads the previous stage's output
    writes: float  # output tokens as a fraction of the module's tokens

    @property
    def tier(self) -> str:
        return get_tier_for_task(self.task)


PIPELINE: tuple[PipelineStage, ...] = (
    PipelineStage("outline", TaskType.OUTLINE, reads_module=1.0, reads_previous=False, writes=0.10),
    PipelineStage("write", TaskType.WRITE_DOCS, reads_module=1.0, reads_previous=True, writes=0.50),
    PipelineStage("polish", TaskType.POLISH, reads_module=0.0, reads_previous=True, writes=0.50),
    PipelineStage("api_reference", TaskType.API_REFERENCE, reads_module=1.0, reads_previous=False, writes=0.15),
)


@dataclass(frozen=True)
class StageCost:
    stage: str
    tier: str
    model: str
    input_tokens: int
    output_tokens: int
    api_cost: float

    def as_dict(self, *, charged: bool) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "tier": self.tier,
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost": round(self.api_cost, 6) if charged else 0.0,
            "api_cost": round(self.api_cost, 6),
        }


def price_pipeline(module_tokens: int, provider: str = DEFAULT_PROVIDER) -> list[StageCost]:
    """Token counts and API dollars for each stage, for a module of ``module_tokens``."""
    stages: list[StageCost] = []
    previous_output = 0
    models = effective_registry().get(provider, {})  # once per pipeline: it stats pricing.json
    for stage in PIPELINE:
        model = models.get(stage.tier)
        if model is None:
            raise LookupError(f"no {provider} model is registered for the {stage.tier} tier")
        input_tokens = (
            round(module_tokens * stage.reads_module)
            + (previous_output if stage.reads_previous else 0)
            + PROMPT_OVERHEAD_TOKENS
        )
        output_tokens = round(module_tokens * stage.writes)
        stages.append(
            StageCost(
                stage.name, stage.tier, model.id, input_tokens, output_tokens, model.cost(input_tokens, output_tokens)
            )
        )
        previous_output = output_tokens
    return stages


def pipeline_description() -> str:
    """One line per stage, for `attune auth status` and the editor's details view."""
    lines = []
    for stage in PIPELINE:
        reads = []
        if stage.reads_module:
            reads.append("the module" if stage.reads_module == 1 else f"{stage.reads_module:g}x the module")
        if stage.reads_previous:
            reads.append("the previous stage's output")
        lines.append(
            f"{stage.name} ({stage.tier}): reads {' + '.join(reads)} + {PROMPT_OVERHEAD_TOKENS} prompt "
            f"tokens, writes {stage.writes:g}x the module's tokens"
        )
    return "\n".join(lines)


__all__ = [
    "PIPELINE",
    "PRICES_AS_OF",
    "PROMPT_OVERHEAD_TOKENS",
    "PipelineStage",
    "StageCost",
    "pipeline_description",
    "price_pipeline",
]
