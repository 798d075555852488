"""What the runs of ``attune run`` teach: a module's real tokens, and each stage's
output ratio.

A run records, per stage, the input and output tokens the API reported. The module's
tokens are derived from the first stage (in the task's order) that reads the module
and finished ok: its input tokens minus its prompt overhead (the task file's
``prompt_overhead``, the figure the estimate uses) minus the outputs of the earlier
stages it reads. A stage's output ratio is its output tokens over those module tokens.

Per task stage the newest ``MAX_STAGE_SAMPLES`` runs are kept; their outputs against
their module tokens give the stage's rule (``StageRatio``: a robust line, base +
ratio x tokens, or the median ratio while there are few runs). For the per-language rates each file counts once (its
newest run), its language from its name (``loc.detect_language``), its size from the
file as it is now (a run whose file is gone teaches output ratios only).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from attune.models.calibration.model import MAX_RATE, MAX_STAGE_SAMPLES, RatioSample, StageRatio

if TYPE_CHECKING:
    from attune.models.pricing.pipeline import TaskPipeline
    from attune.models.telemetry.runs import RunRecord
    from attune.models.telemetry.store import TelemetryStore

#: How many of the newest runs are read.
DEFAULT_RUNS_LIMIT = 1000


@dataclass(frozen=True)
class ModuleSample:
    """One file's real tokens, from its newest run."""

    path: str
    language: str
    code_lines: int
    size_bytes: int
    tokens: int
    model: str
    at: datetime


@dataclass(frozen=True)
class RunsLesson:
    """What the runs taught: per file its tokens (``modules``), per ``"task/stage"``
    its output ratio, and how many runs were usable (``runs``)."""

    modules: list[ModuleSample] = field(default_factory=list)
    output_ratios: dict[str, StageRatio] = field(default_factory=dict)
    runs: int = 0


def run_module_tokens(run: RunRecord, pipeline: TaskPipeline) -> tuple[int, str] | None:
    """(the module's actual tokens, the model that read it) from the first stage of
    ``pipeline`` that reads the module and finished ok; None when no stage tells."""
    by_name = {s.stage: s for s in run.stages}
    for stage in pipeline.stages:
        record = by_name.get(stage.name)
        if not stage.reads_module:
            continue
        if record is None or record.status != "ok" or record.input_tokens is None:
            return None
        earlier = 0
        for name in stage.reads:
            read = by_name.get(name)
            if read is None or read.output_tokens is None:
                return None
            earlier += read.output_tokens
        tokens = record.input_tokens - stage.prompt_overhead - earlier
        return (tokens, record.model) if tokens > 0 else None
    return None


def _file_size(path: str) -> int | None:
    try:
        size = os.stat(path).st_size
    except OSError:
        return None
    return size if size > 0 else None


def learn_from_runs(store: TelemetryStore, *, limit: int = DEFAULT_RUNS_LIMIT) -> RunsLesson:
    """Read the newest ``limit`` runs of ``store`` and learn from them (module doc).
    Runs of a task this version does not know, or with no stage that read the module,
    are passed over."""
    from attune.models.loc.counter import detect_language
    from attune.models.pricing.pipeline import get_task

    pipelines: dict[str, TaskPipeline | None] = {}
    modules: dict[str, ModuleSample] = {}
    samples: dict[str, list[tuple[RatioSample, str]]] = {}
    used = 0
    for run in store.list_runs(limit=limit):  # newest first
        if run.task not in pipelines:
            try:
                pipelines[run.task] = get_task(run.task)
            except ValueError:  # a task this version does not know, or its file is broken
                pipelines[run.task] = None
        pipeline = pipelines[run.task]
        found = run_module_tokens(run, pipeline) if pipeline is not None else None
        if found is None:
            continue
        tokens, model = found
        used += 1
        at = (run.finished_at or run.started_at).astimezone(UTC)
        for stage in run.stages:
            if (
                stage.status == "ok"
                and stage.output_tokens is not None
                and stage.stop_reason != "max_tokens"  # cut at our own limit: not the length the task writes
                and stage.output_tokens / tokens <= MAX_RATE
            ):
                sample = RatioSample(run_id=run.run_id, ratio=stage.output_tokens / tokens, at=at, module_tokens=tokens)
                samples.setdefault(f"{run.task}/{stage.stage}", []).append((sample, stage.model))
        language = detect_language(run.path)
        size = _file_size(run.path)
        if run.path not in modules and run.lines and size is not None and language != "Text":
            modules[run.path] = ModuleSample(run.path, language, run.lines, size, tokens, model, at)
    now = datetime.now(UTC)
    ratios = {}
    for key, pairs in sorted(samples.items()):
        newest = sorted(pairs, key=lambda pair: pair[0].at)[-MAX_STAGE_SAMPLES:]
        ratios[key] = StageRatio.from_samples([s for s, _ in newest], newest[-1][1], now)
    return RunsLesson(list(modules.values()), ratios, used)
