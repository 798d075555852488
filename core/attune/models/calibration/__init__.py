"""Calibration: token estimates and output ratios whose error is known.

- ``model``: what is learned (``Calibration``: per language tokens per line and per
  byte with their interval; per task stage the output ratio) and ``calibration.json``;
- ``estimate``: ``module_tokens``, the estimate of a module's tokens that uses it;
- ``sampling``: the stratified sample of a folder's files that ``attune calibrate`` counts;
- ``counting``: exact counts from the ``count_tokens`` endpoint (rate limits honoured);
- ``from_runs``: what the runs of ``attune run`` teach (module tokens, output ratios);
- ``apply``: the folder-wide tokens per line written into the strategy, backed up first.

Names load lazily (PEP 562): importing the package costs nothing until a name is used,
and ``module_tokens`` never imports ``anthropic``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attune.models.calibration.apply import apply_multiplier, directory_multiplier
    from attune.models.calibration.counting import (
        CountedFile,
        CountOutcome,
        calibrate_from_counts,
        count_files,
    )
    from attune.models.calibration.estimate import ModuleTokens, describe_tokens, module_tokens, stage_output_rules
    from attune.models.calibration.from_runs import ModuleSample, RunsLesson, learn_from_runs
    from attune.models.calibration.model import (
        Calibration,
        CalibrationFileError,
        LanguageRates,
        RateInterval,
        RatioSample,
        StageRatio,
        calibration_path,
        load_calibration,
        save_calibration,
        set_aside_calibration,
    )
    from attune.models.calibration.sampling import Sample, SampledFile, sample_files

_EXPORTS: dict[str, str] = {
    "apply_multiplier": "apply",
    "directory_multiplier": "apply",
    "Calibration": "model",
    "CalibrationFileError": "model",
    "LanguageRates": "model",
    "RateInterval": "model",
    "RatioSample": "model",
    "StageRatio": "model",
    "calibration_path": "model",
    "load_calibration": "model",
    "save_calibration": "model",
    "set_aside_calibration": "model",
    "ModuleTokens": "estimate",
    "describe_tokens": "estimate",
    "module_tokens": "estimate",
    "stage_output_rules": "estimate",
    "Sample": "sampling",
    "SampledFile": "sampling",
    "sample_files": "sampling",
    "CountedFile": "counting",
    "CountOutcome": "counting",
    "calibrate_from_counts": "counting",
    "count_files": "counting",
    "ModuleSample": "from_runs",
    "RunsLesson": "from_runs",
    "learn_from_runs": "from_runs",
}

__all__ = [
    "Calibration",
    "CalibrationFileError",
    "CountOutcome",
    "CountedFile",
    "LanguageRates",
    "ModuleSample",
    "ModuleTokens",
    "RateInterval",
    "RatioSample",
    "RunsLesson",
    "Sample",
    "SampledFile",
    "StageRatio",
    "apply_multiplier",
    "calibrate_from_counts",
    "calibration_path",
    "count_files",
    "describe_tokens",
    "directory_multiplier",
    "learn_from_runs",
    "load_calibration",
    "module_tokens",
    "sample_files",
    "save_calibration",
    "set_aside_calibration",
    "stage_output_rules",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'attune.models.calibration' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
