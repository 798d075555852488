"""What running one module through a task costs: tasks are priced pipelines.

A task (``document``, ``review``, ``explain``, ``tests``) is an ordered list of
stages. Each stage runs on a tier (cheap, capable, premium: the registry picks the
model), reads the module's T tokens and/or the outputs of named earlier stages plus
its prompt (the templates' own tokens, ``template_tokens``, unless the task file sets
``prompt_overhead``), and writes ``output_ratio`` x T tokens (``OutputRule``: base +
ratio x T once calibrated from real runs). T = lines x ``loc_to_tokens_multiplier``,
or the calibrated estimate.

Every task lives in one TOML file, ``task_defs/<name>.toml``: its description, what
its output is, which stages' outputs make the final result, and per stage the
numbers above and the system and user prompts. The files are read on first use,
checked (tiers, ratios, stage references, placeholders) and cached.

The ``document`` task is the pipeline ``AuthStrategy.estimate_cost`` prices:

===============  =======  ==============================  ==================
stage            tier     reads (input tokens)            writes (output)
===============  =======  ==============================  ==================
outline          cheap    T + prompt                      0.10 T
write            capable  T + outline + prompt            0.50 T
polish           premium  draft + prompt                  0.50 T
api_reference    cheap    T + prompt                      0.15 T
===============  =======  ==============================  ==================

On the API a stage costs ``input x $in/MTok + output x $out/MTok``; on a
subscription it costs $0 and its tokens are charged to the plan's quota.

Prompts are templates: ``{module}`` (the source text), ``{path}``, ``{language}`` and
``{<stage>}`` (an earlier stage's output) are replaced in one pass, so text inside
the module that looks like a placeholder is left alone. A stage's user prompt holds
``{module}`` exactly when the stage reads the module and ``{<stage>}`` exactly for the
stages it reads, so the estimate prices what the prompt sends.
"""

from __future__ import annotations

import math
import re
import threading
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from attune.models.pricing.registry import DEFAULT_PROVIDER, PRICES_AS_OF, effective_registry

# A stage's prompt overhead, unless its task file says otherwise: the prompt templates'
# own text (placeholders taken out) at BYTES_PER_PROMPT_TOKEN, English prose's rate on
# Claude's tokenizer, plus MESSAGE_FRAMING_TOKENS for the role markers and the path
# and language filled in.
BYTES_PER_PROMPT_TOKEN = 4.0
MESSAGE_FRAMING_TOKENS = 20
TIERS = ("cheap", "capable", "premium")
TASK_NAMES = ("document", "review", "explain", "tests")
DEFAULT_TASK = "document"
BUILTIN_PLACEHOLDERS = ("module", "path", "language")
FINAL_SEPARATOR = "\n\n"

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


class TaskDefinitionError(ValueError):
    """A task file that cannot be used (bad TOML, unknown tier, a reference to a stage
    that does not come earlier, ...). The message names the file and the problem."""


def template_tokens(system: str, user: str) -> int:
    """The tokens a stage's prompts add to what it reads (see BYTES_PER_PROMPT_TOKEN)."""
    text = _PLACEHOLDER.sub("", system) + _PLACEHOLDER.sub("", user)
    return math.ceil(len(text.encode("utf-8")) / BYTES_PER_PROMPT_TOKEN) + MESSAGE_FRAMING_TOKENS


@dataclass(frozen=True)
class OutputRule:
    """How long a stage's output is: ``base`` tokens plus ``ratio`` x the module's
    tokens. A task file gives the ratio alone; calibration learns both from real runs
    (a reply has a length of its own even for a tiny module)."""

    ratio: float
    base: int = 0

    def tokens(self, module_tokens: int) -> int:
        return self.base + round(module_tokens * self.ratio)


@dataclass(frozen=True)
class TaskStage:
    """One stage of a task: what it reads, what it writes, and its prompts."""

    name: str
    tier: str
    reads_module: bool
    reads: tuple[str, ...]
    output_ratio: float
    system: str
    user: str
    prompt_overhead: int = -1  # -1: the templates' own tokens (template_tokens)

    def __post_init__(self) -> None:
        if self.prompt_overhead < 0:
            object.__setattr__(self, "prompt_overhead", template_tokens(self.system, self.user))

    def render(self, module_text: str, path: str, language: str, earlier: Mapping[str, str]) -> tuple[str, str]:
        """(system prompt, user prompt) with the placeholders filled. ``earlier`` maps
        the names of stages already run to their outputs; each stage this one reads
        must be there (KeyError naming it otherwise)."""
        values = {"module": module_text, "path": path, "language": language}
        for name in self.reads:
            if name not in earlier:
                raise KeyError(f"stage {self.name!r} reads the output of {name!r}, which is not in `earlier`")
            values[name] = earlier[name]

        def fill(match: re.Match[str]) -> str:
            return values.get(match.group(1), match.group(0))

        return _PLACEHOLDER.sub(fill, self.system), _PLACEHOLDER.sub(fill, self.user)

    def input_tokens(self, module_tokens: int, outputs: Mapping[str, int]) -> int:
        return (
            (module_tokens if self.reads_module else 0)
            + sum(outputs[name] for name in self.reads)
            + self.prompt_overhead
        )

    def output_tokens(self, module_tokens: int, rule: OutputRule | None = None) -> int:
        """``rule`` (calibrated from real runs) replaces the task file's ratio when given."""
        return rule.tokens(module_tokens) if rule is not None else round(module_tokens * self.output_ratio)

    def describe(self) -> str:
        reads = (["the module"] if self.reads_module else []) + [f"the {name} output" for name in self.reads]
        return (
            f"{self.name} ({self.tier}): reads {' + '.join(reads)} + {self.prompt_overhead} prompt tokens, "
            f"writes {self.output_ratio:g}x the module's tokens"
        )


@dataclass(frozen=True)
class TaskPipeline:
    """A named task: its stages in order. ``output_hint`` says what the run produces;
    ``final`` names the stages whose outputs, joined by a blank line in this order,
    are the run's result (the last stage's alone unless the file says otherwise)."""

    name: str
    description: str
    output_hint: str
    stages: tuple[TaskStage, ...]
    final: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.final and self.stages:
            object.__setattr__(self, "final", (self.stages[-1].name,))

    def stage(self, name: str) -> TaskStage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"task {self.name!r} has no stage {name!r}")

    def final_output(self, outputs: Mapping[str, str]) -> str:
        """The run's result from the stages' outputs."""
        return FINAL_SEPARATOR.join(outputs[name].strip() for name in self.final)

    def describe(self) -> str:
        """One line per stage, for `attune auth status` and the editor's details view."""
        return "\n".join(stage.describe() for stage in self.stages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "output_hint": self.output_hint,
            "final": list(self.final),
            "stages": [
                {
                    "name": s.name,
                    "tier": s.tier,
                    "reads_module": s.reads_module,
                    "reads": list(s.reads),
                    "output_ratio": s.output_ratio,
                    "prompt_overhead": s.prompt_overhead,
                }
                for s in self.stages
            ],
        }


# ---- loading the task files -----------------------------------------------------


def _fail(where: str, problem: str) -> TaskDefinitionError:
    return TaskDefinitionError(f"task file {where}: {problem}")


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"{key} must be a non-empty string")
    return value


def parse_task(name: str, text: str, where: str | None = None) -> TaskPipeline:
    """A task from the text of its TOML file, checked; TaskDefinitionError names the problem."""
    where = where or f"{name}.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(where, f"not valid TOML ({exc})") from None
    known = {"description", "output_hint", "final", "stages"}
    if unknown := sorted(set(data) - known):
        raise _fail(where, f"unknown key(s) {', '.join(unknown)}")
    description = _text(data, "description", where)
    output_hint = _text(data, "output_hint", where)
    raw_stages = data.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise _fail(where, "needs at least one [[stages]] table")
    stages: list[TaskStage] = []
    seen: list[str] = []
    stage_keys = {"name", "tier", "reads_module", "reads", "output_ratio", "prompt_overhead", "system", "user"}
    for number, raw in enumerate(raw_stages, 1):
        if not isinstance(raw, dict):
            raise _fail(where, f"stage {number} is not a table")
        stage_name = raw.get("name")
        if not isinstance(stage_name, str) or not _NAME.match(stage_name) or stage_name in BUILTIN_PLACEHOLDERS:
            raise _fail(where, f"stage {number}: name must be lower_snake_case and not module/path/language")
        at = f"stage {stage_name!r}"
        if stage_name in seen:
            raise _fail(where, f"{at} is defined twice")
        if unknown := sorted(set(raw) - stage_keys):
            raise _fail(where, f"{at}: unknown key(s) {', '.join(unknown)}")
        tier = raw.get("tier")
        if tier not in TIERS:
            raise _fail(where, f"{at}: tier must be one of {', '.join(TIERS)}, got {tier!r}")
        reads_module = raw.get("reads_module", False)
        if not isinstance(reads_module, bool):
            raise _fail(where, f"{at}: reads_module must be true or false")
        reads = raw.get("reads", [])
        if not isinstance(reads, list) or not all(isinstance(r, str) for r in reads):
            raise _fail(where, f"{at}: reads must be a list of stage names")
        for ref in reads:
            if ref not in seen:
                raise _fail(where, f"{at} reads {ref!r}, which is not an earlier stage ({', '.join(seen) or 'none'})")
        if len(set(reads)) != len(reads):
            raise _fail(where, f"{at}: reads names a stage twice")
        if not reads_module and not reads:
            raise _fail(where, f"{at} reads nothing (set reads_module or reads)")
        ratio = raw.get("output_ratio")
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 100:
            raise _fail(where, f"{at}: output_ratio must be a number > 0 (at most 100), got {ratio!r}")
        overhead = raw.get("prompt_overhead", -1)
        if isinstance(overhead, bool) or not isinstance(overhead, int) or not -1 <= overhead <= 100_000:
            raise _fail(where, f"{at}: prompt_overhead must be an integer from 0 to 100000, got {overhead!r}")
        system, user = _text(raw, "system", f"{where} {at}"), _text(raw, "user", f"{where} {at}")
        all_stages = {r.get("name") for r in raw_stages if isinstance(r, dict)}
        for prompt_name, prompt in (("system", system), ("user", user)):
            for placeholder in _PLACEHOLDER.findall(prompt):
                if placeholder == "module" and not reads_module:
                    raise _fail(where, f"{at}: the {prompt_name} prompt has {{module}} but reads_module is false")
                if placeholder in all_stages and placeholder not in reads:
                    raise _fail(
                        where, f"{at}: the {prompt_name} prompt has {{{placeholder}}}, a stage this stage does not read"
                    )
        used = set(_PLACEHOLDER.findall(user))
        if reads_module and "module" not in used:
            raise _fail(where, f"{at}: reads_module is true but the user prompt has no {{module}}")
        for ref in reads:
            if ref not in used:
                raise _fail(where, f"{at}: reads {ref!r} but the user prompt has no {{{ref}}}")
        stages.append(TaskStage(stage_name, tier, reads_module, tuple(reads), float(ratio), system, user, overhead))
        seen.append(stage_name)
    final = data.get("final", [seen[-1]])
    if not isinstance(final, list) or not final or not all(isinstance(f, str) and f in seen for f in final):
        raise _fail(where, f"final must be a non-empty list of stage names ({', '.join(seen)}), got {final!r}")
    return TaskPipeline(name, description, output_hint, tuple(stages), tuple(final))


_cache: dict[str, TaskPipeline] = {}
_cache_lock = threading.Lock()


def get_task(name: str) -> TaskPipeline:
    """The task called ``name`` (read from its file on first use, then cached).
    ValueError naming the known tasks for any other name."""
    task = _cache.get(name)
    if task is not None:
        return task
    if name not in TASK_NAMES:
        raise ValueError(f"unknown task {name!r}; the tasks are {', '.join(TASK_NAMES)}")
    resource = resources.files(__package__).joinpath("task_defs", f"{name}.toml")
    try:
        text = resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskDefinitionError(f"task file {name}.toml: cannot be read ({exc})") from None
    task = parse_task(name, text, f"{name}.toml")
    with _cache_lock:
        return _cache.setdefault(name, task)


def task_names() -> tuple[str, ...]:
    """The tasks, ``document`` (the default) first."""
    return TASK_NAMES


class _Tasks(Mapping[str, TaskPipeline]):
    """Every task by name, each loaded on first access."""

    def __getitem__(self, name: str) -> TaskPipeline:
        if name not in TASK_NAMES:
            raise KeyError(name)
        return get_task(name)

    def __iter__(self) -> Iterator[str]:
        return iter(TASK_NAMES)

    def __len__(self) -> int:
        return len(TASK_NAMES)


TASKS: Mapping[str, TaskPipeline] = _Tasks()


# ---- estimates ------------------------------------------------------------------


@dataclass(frozen=True)
class StageEstimate:
    """One stage priced: ``cost`` is what the mode charges in dollars (0 on a
    subscription), ``api_cost`` what the same tokens cost on the API."""

    stage: str
    tier: str
    model: str
    input_tokens: int
    output_tokens: int
    cost: float
    api_cost: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "tier": self.tier,
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost": round(self.cost, 6),
            "api_cost": round(self.api_cost, 6),
        }


@dataclass(frozen=True)
class TaskEstimate:
    """A task priced for one module in one mode (``api`` or ``subscription``).
    ``tokens`` is the module's T; ``quota_tokens`` the tokens a subscription run
    charges to the plan's quota (0 on the API); ``fits_in_context`` compares T with the
    mode's window."""

    task: str
    mode: str
    tokens: int
    stages: tuple[StageEstimate, ...]
    total_cost: float
    api_cost: float
    quota_tokens: int
    fits_in_context: bool
    lines: int | None = None
    context_window: int = 0
    prices_as_of: str = PRICES_AS_OF
    # what the module's tokens rest on: "calibrated: Python, 40 files", "default 4 tokens/line", "exact count"
    tokens_basis: str | None = None
    calibrated_stages: tuple[str, ...] = ()  # the stages priced with a calibrated output ratio

    @property
    def tokens_used(self) -> int:
        return sum(s.input_tokens + s.output_tokens for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "mode": self.mode,
            "lines": self.lines,
            "tokens": self.tokens,
            "tokens_basis": self.tokens_basis,
            "calibrated_stages": list(self.calibrated_stages),
            "total_cost": round(self.total_cost, 6),
            "api_cost": round(self.api_cost, 6),
            "quota_tokens": self.quota_tokens,
            "tokens_used": self.tokens_used,
            "context_window": self.context_window,
            "fits_in_context": self.fits_in_context,
            "stages": [s.to_dict() for s in self.stages],
            "prices_as_of": self.prices_as_of,
        }


def price_task(
    task: TaskPipeline | str,
    module_tokens: int,
    *,
    charged: bool,
    provider: str = DEFAULT_PROVIDER,
    output_rules: Mapping[str, OutputRule] | None = None,
) -> tuple[StageEstimate, ...]:
    """Each stage's tokens, model and dollars for a module of ``module_tokens``;
    ``charged`` False (a subscription) makes every ``cost`` 0. ``output_rules``
    (stage name -> rule, calibrated from real runs) replace the task file's ratio for
    the stages they name."""
    rules = output_rules or {}
    pipeline = get_task(task) if isinstance(task, str) else task
    models = effective_registry().get(provider, {})  # once per task: it stats pricing.json
    outputs: dict[str, int] = {}
    priced: list[StageEstimate] = []
    for stage in pipeline.stages:
        model = models.get(stage.tier)
        if model is None:
            raise LookupError(f"no {provider} model is registered for the {stage.tier} tier")
        input_tokens = stage.input_tokens(module_tokens, outputs)
        output_tokens = stage.output_tokens(module_tokens, rules.get(stage.name))
        api_cost = model.cost(input_tokens, output_tokens)
        priced.append(
            StageEstimate(
                stage.name, stage.tier, model.id, input_tokens, output_tokens, api_cost if charged else 0.0, api_cost
            )
        )
        outputs[stage.name] = output_tokens
    return tuple(priced)


# ---- the documentation pipeline, as AuthStrategy.estimate_cost has always priced it


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


def price_pipeline(
    module_tokens: int,
    provider: str = DEFAULT_PROVIDER,
    task: str = DEFAULT_TASK,
    output_rules: Mapping[str, OutputRule] | None = None,
) -> list[StageCost]:
    """Token counts and API dollars for each stage of ``task`` (the documentation
    pipeline by default), for a module of ``module_tokens``."""
    return [
        StageCost(s.stage, s.tier, s.model, s.input_tokens, s.output_tokens, s.api_cost)
        for s in price_task(task, module_tokens, charged=True, provider=provider, output_rules=output_rules)
    ]


def pipeline_description(task: str = DEFAULT_TASK) -> str:
    """One line per stage, for `attune auth status` and the editor's details view."""
    return get_task(task).describe()


__all__ = [
    "BYTES_PER_PROMPT_TOKEN",
    "DEFAULT_TASK",
    "MESSAGE_FRAMING_TOKENS",
    "PRICES_AS_OF",
    "TASKS",
    "TASK_NAMES",
    "TIERS",
    "OutputRule",
    "StageCost",
    "StageEstimate",
    "TaskDefinitionError",
    "TaskEstimate",
    "TaskPipeline",
    "TaskStage",
    "get_task",
    "parse_task",
    "pipeline_description",
    "price_pipeline",
    "price_task",
    "task_names",
    "template_tokens",
]
