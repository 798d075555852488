"""What calibration has learned, and the file that keeps it (``calibration.json``).

Per language: tokens per line of code and tokens per byte, each a value with the
10th-90th percentile of the per-file ratios around it, with where they came from
(``count_tokens``, ``runs`` or both), the model whose tokenizer counted, when, and
how many files. Per task stage (``"task/stage"``): its output as base tokens + a
ratio x the module's tokens, fitted to the last ``MAX_STAGE_SAMPLES`` runs
(``StageRatio``).

The file lives in the state folder (``ATTUNE_HOME`` honoured), is written
atomically and validated on load. A file that cannot be used raises
``CalibrationFileError`` and is left exactly as it is: nothing here replaces it.
``set_aside_calibration`` (``attune calibrate --reset``) moves it to
``calibration.json.corrupt-<UTC time>``, after which a new one can be written.
"""

from __future__ import annotations

import json
import math
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from attune.models._internal import paths
from attune.models._internal.atomic_file import atomic_write_json
from attune.models._internal.safe_read import MIB, read_regular_file
from attune.models._internal.set_aside import set_aside
from attune.models.errors import AttuneError, FileReadError
from attune.models.strategy.model import describe_validation_error

CALIBRATION_FILE_NAME = "calibration.json"
CALIBRATION_SCHEMA_VERSION = 1
#: A calibration file larger than this is refused unread.
MAX_CALIBRATION_FILE_BYTES = MIB
#: Output ratios: the median of this many most recent runs of a stage.
MAX_STAGE_SAMPLES = 20
# Ratios beyond this mean nothing (a minified file has one huge line); it bounds the
# numbers a hand-edited file can feed into an estimate.
MAX_RATE = 1_000_000.0

Source = Literal["count_tokens", "runs", "count_tokens+runs"]

CALIBRATION_ADVICE = (
    "The file was left untouched: fix it or move it away, or run `attune calibrate --reset` "
    "to move it aside and start over."
)


class CalibrationFileError(AttuneError):
    """``calibration.json`` exists but cannot be used (unreadable, not JSON, invalid).
    The message names the file and the problem; the file is left untouched."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}. {CALIBRATION_ADVICE}")


def calibration_path() -> Path:
    """``calibration.json`` in the state folder (under ``ATTUNE_HOME`` when it is set)."""
    return paths.state_dir() / CALIBRATION_FILE_NAME


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a time zone (UTC)")
    return value.astimezone(UTC)


class RateInterval(BaseModel):
    """A rate and the interval around it: ``low`` and ``high`` are the 10th and 90th
    percentiles of the per-file ratios it was learned from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float = Field(ge=0, le=MAX_RATE, allow_inf_nan=False)
    low: float = Field(ge=0, le=MAX_RATE, allow_inf_nan=False)
    high: float = Field(ge=0, le=MAX_RATE, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> RateInterval:
        if not self.low <= self.value <= self.high:
            raise ValueError(f"low ({self.low}) <= value ({self.value}) <= high ({self.high}) does not hold")
        return self

    @classmethod
    def from_ratios(cls, ratios: list[float]) -> RateInterval:
        """The median of ``ratios`` within their 10th-90th percentiles (at least one ratio)."""
        if not ratios:
            raise ValueError("no ratios to learn a rate from")
        ordered = sorted(ratios)
        value = statistics.median(ordered)
        low, high = percentile(ordered, 0.10), percentile(ordered, 0.90)
        return cls(value=value, low=min(low, value), high=max(high, value))


def percentile(ordered: list[float], q: float) -> float:
    """The ``q`` quantile of sorted values, interpolated linearly between neighbours."""
    if not ordered:
        raise ValueError("no values")
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


class LanguageRates(BaseModel):
    """What one language's source costs in tokens, and where that was learned."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tokens_per_line: RateInterval
    tokens_per_byte: RateInterval
    files: int = Field(ge=1)
    source: Source
    model: str = Field(min_length=1)
    measured_at: datetime
    sampled_from: str | None = None  # the folder `attune calibrate` sampled, if any

    @field_validator("measured_at")
    @classmethod
    def _in_utc_measured_at(cls, value: datetime) -> datetime:
        return _utc(value)


class RatioSample(BaseModel):
    """One run's output ratio of a stage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str = Field(min_length=1)
    ratio: float = Field(ge=0, le=MAX_RATE, allow_inf_nan=False)
    at: datetime
    module_tokens: int | None = Field(None, ge=1)  # the run's module tokens, which the ratio divides by

    @field_validator("at")
    @classmethod
    def _in_utc_at(cls, value: datetime) -> datetime:
        return _utc(value)


class StageRatio(BaseModel):
    """A task stage's output: ``base_tokens`` + ``value`` x the module's tokens, learned
    from its last runs (``samples``, newest last, at most ``MAX_STAGE_SAMPLES``).

    With ``MIN_FIT_SAMPLES`` runs of different module sizes, a line is fitted robustly
    (Theil-Sen: the median of the pairwise slopes, then the median intercept): a reply
    has a length of its own, so small modules' outputs are not a fixed share of them.
    With fewer, or when the fitted intercept would be negative, ``value`` is the median
    ratio and ``base_tokens`` 0."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float = Field(ge=0, le=MAX_RATE, allow_inf_nan=False)
    base_tokens: int = Field(0, ge=0)
    samples: list[RatioSample] = Field(min_length=1, max_length=MAX_STAGE_SAMPLES)
    source: Literal["runs"] = "runs"
    model: str = Field(min_length=1)
    measured_at: datetime

    @field_validator("measured_at")
    @classmethod
    def _in_utc_measured_at(cls, value: datetime) -> datetime:
        return _utc(value)

    @classmethod
    def from_samples(cls, samples: list[RatioSample], model: str, measured_at: datetime) -> StageRatio:
        """The newest ``MAX_STAGE_SAMPLES`` of ``samples`` (one per run id) and their median."""
        by_run = {s.run_id: s for s in sorted(samples, key=lambda s: s.at)}
        kept = sorted(by_run.values(), key=lambda s: s.at)[-MAX_STAGE_SAMPLES:]
        slope, base = fit_output(kept)
        return cls(value=slope, base_tokens=base, samples=kept, model=model, measured_at=measured_at)


#: The fewest runs (of at least two module sizes) a stage's line is fitted from.
MIN_FIT_SAMPLES = 5


def fit_output(samples: list[RatioSample]) -> tuple[float, int]:
    """(ratio, base tokens) of a stage's output, by the rule in StageRatio's doc."""
    median_ratio = statistics.median(s.ratio for s in samples)
    points = [(s.module_tokens, s.ratio * s.module_tokens) for s in samples if s.module_tokens is not None]
    if len(points) < MIN_FIT_SAMPLES or len({t for t, _ in points}) < 2:
        return median_ratio, 0
    slopes = [(y2 - y1) / (t2 - t1) for i, (t1, y1) in enumerate(points) for t2, y2 in points[i + 1 :] if t2 != t1]
    slope = statistics.median(slopes)
    base = statistics.median(y - slope * t for t, y in points)
    if slope < 0 or base < 0 or slope > MAX_RATE:
        return median_ratio, 0
    return slope, round(base)


class Calibration(BaseModel):
    """Everything calibration has learned. Empty (no languages, no ratios) until the
    first `attune calibrate`."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    languages: dict[str, LanguageRates] = Field(default_factory=dict)
    output_ratios: dict[str, StageRatio] = Field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.languages and not self.output_ratios

    def merged(self, newer: Calibration) -> Calibration:
        """This calibration updated with ``newer``: a language ``newer`` has replaces
        this one's entry (its provenance with it), except that rates learned from runs
        alone never replace rates resting on exact counts (a run's module tokens are
        its input less an estimated prompt overhead, an exact count has no guess in
        it); a stage's output ratio keeps the newest ``MAX_STAGE_SAMPLES`` runs of
        both, one sample per run."""
        ratios = dict(self.output_ratios)
        for key, stage in newer.output_ratios.items():
            old = ratios.get(key)
            samples = [*old.samples, *stage.samples] if old is not None else list(stage.samples)
            ratios[key] = StageRatio.from_samples(samples, stage.model, stage.measured_at)
        languages = dict(self.languages)
        for language, rates in newer.languages.items():
            old_rates = languages.get(language)
            if rates.source == "runs" and old_rates is not None and old_rates.source != "runs":
                continue
            languages[language] = rates
        return Calibration(languages=languages, output_ratios=ratios)


def load_calibration(path: Path | None = None) -> Calibration:
    """The calibration in ``path`` (default ``calibration_path()``); an empty one when
    the file does not exist. ``CalibrationFileError`` when it exists but cannot be
    used: not a regular file, over ``MAX_CALIBRATION_FILE_BYTES``, not JSON, or not a
    valid calibration. The file is never changed here."""
    target = path or calibration_path()
    try:
        data = read_regular_file(target, MAX_CALIBRATION_FILE_BYTES)
    except FileNotFoundError:
        return Calibration()
    except FileReadError as exc:
        raise CalibrationFileError(target, exc.problem) from None
    except OSError as exc:
        raise CalibrationFileError(target, f"cannot be read ({exc.strerror or exc})") from None
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CalibrationFileError(target, f"not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise CalibrationFileError(target, f"must hold a JSON object, not {type(raw).__name__}")
    version = raw.get("schema_version")
    if version != CALIBRATION_SCHEMA_VERSION:
        raise CalibrationFileError(
            target, f"schema_version is {version!r}; this version of Attune reads {CALIBRATION_SCHEMA_VERSION}"
        )
    try:
        return Calibration.model_validate(raw)
    except ValidationError as exc:
        raise CalibrationFileError(target, f"invalid calibration ({describe_validation_error(exc)})") from None


def save_calibration(cal: Calibration, path: Path | None = None) -> Path:
    """Write ``cal`` atomically (mode 0600) to ``path`` (default ``calibration_path()``);
    returns the path. It replaces the file: callers that must not replace an unusable
    file load it first (``load_calibration`` raises for one)."""
    target = path or calibration_path()
    atomic_write_json(target, cal.model_dump(mode="json"))
    return target


def set_aside_calibration(path: Path | None = None) -> Path | None:
    """Move the calibration file to ``<name>.corrupt-<UTC time>`` (never over an
    earlier one); return where it went, or None when there is no file."""
    target = path or calibration_path()
    try:
        return set_aside(target)
    except FileNotFoundError:
        return None
