"""The calibration model, its file and the estimate that uses it (no API involved)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from attune.models.calibration import (
    Calibration,
    CalibrationFileError,
    LanguageRates,
    RateInterval,
    RatioSample,
    StageRatio,
    calibration_path,
    describe_tokens,
    load_calibration,
    module_tokens,
    save_calibration,
    set_aside_calibration,
    stage_output_rules,
)
from attune.models.pricing.pipeline import OutputRule

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _python(files: int = 40, source: str = "count_tokens") -> LanguageRates:
    return LanguageRates(
        tokens_per_line=RateInterval(value=10.0, low=8.0, high=12.0),
        tokens_per_byte=RateInterval(value=0.25, low=0.2, high=0.3),
        files=files,
        source=source,  # type: ignore[arg-type]
        model="claude-sonnet-4-5",
        measured_at=NOW,
    )


def _stage(run_ids: list[str], ratio: float = 0.5) -> StageRatio:
    samples = [RatioSample(run_id=r, ratio=ratio, at=NOW + timedelta(minutes=i)) for i, r in enumerate(run_ids)]
    return StageRatio.from_samples(samples, "claude-haiku-4-5", NOW)


def test_a_calibrated_language_with_bytes_is_estimated_from_bytes():
    cal = Calibration(languages={"Python": _python()})
    mt = module_tokens(100, language="Python", size_bytes=4000, multiplier=4.0, calibration=cal)
    assert (mt.tokens, mt.low, mt.high, mt.calibrated) == (1000, 800, 1200, True)
    assert mt.basis == "calibrated: Python, 40 files"
    assert describe_tokens(mt) == "≈ 1,000 tokens (calibrated: Python, 40 files)"


def test_a_calibrated_language_without_bytes_is_estimated_from_lines():
    cal = Calibration(languages={"Python": _python(files=1)})
    mt = module_tokens(3120, language="Python", size_bytes=None, multiplier=4.0, calibration=cal)
    assert (mt.tokens, mt.low, mt.high) == (31200, 24960, 37440)
    assert describe_tokens(mt) == "≈ 31,200 tokens (calibrated: Python, 1 file)"


@pytest.mark.parametrize("language", ["Go", None])
def test_an_uncalibrated_language_uses_the_strategy_multiplier(language):
    cal = Calibration(languages={"Python": _python()})
    mt = module_tokens(250, language=language, size_bytes=9000, multiplier=4.0, calibration=cal)
    assert (mt.tokens, mt.low, mt.high, mt.calibrated) == (1000, 1000, 1000, False)
    assert mt.basis == "default 4 tokens/line"
    mt = module_tokens(10, language="Python", size_bytes=None, multiplier=3.5, calibration=None)
    assert describe_tokens(mt) == "≈ 35 tokens (default 3.5 tokens/line)"


def test_stage_output_rules_are_those_of_the_task():
    cal = Calibration(output_ratios={"document/outline": _stage(["a"], 0.2), "review/scan": _stage(["b"], 0.9)})
    assert stage_output_rules(cal, "document") == {"outline": OutputRule(ratio=0.2, base=0)}
    assert stage_output_rules(cal, "explain") == {}
    assert stage_output_rules(None, "document") == {}


def test_a_stage_with_runs_of_several_sizes_learns_a_base_and_a_ratio():
    # outputs of 200 + 0.3 x T, give or take 10%, over modules of 100 to 10,000 tokens
    sizes = [100, 300, 700, 1_500, 3_000, 6_000, 10_000]
    noise = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0, 1.02]
    samples = [
        RatioSample(run_id=f"r{i}", ratio=(200 + 0.3 * t) * n / t, at=NOW + timedelta(minutes=i), module_tokens=t)
        for i, (t, n) in enumerate(zip(sizes, noise, strict=True))
    ]
    stage = StageRatio.from_samples(samples, "m", NOW)
    assert stage.value == pytest.approx(0.3, rel=0.1) and stage.base_tokens == pytest.approx(200, rel=0.2)
    # the median ratio alone would price a 100-token module at ~0.37 x 100 = 37 tokens
    assert OutputRule(stage.value, stage.base_tokens).tokens(100) == pytest.approx(230, rel=0.2)
    # too few runs, or runs without module tokens: the median ratio
    few = StageRatio.from_samples(samples[:4], "m", NOW)
    assert few.base_tokens == 0 and few.value == pytest.approx(statistics.median(s.ratio for s in samples[:4]))


def test_the_file_is_in_the_state_folder_under_attune_home(attune_home: Path):
    assert calibration_path() == attune_home / "state" / "calibration.json"


def test_a_missing_file_is_an_empty_calibration():
    cal = load_calibration()
    assert cal.empty and cal.schema_version == 1


def test_saved_and_loaded_keeps_everything():
    cal = Calibration(languages={"Python": _python()}, output_ratios={"document/write": _stage(["r1", "r2"])})
    path = save_calibration(cal)
    assert path == calibration_path()
    assert load_calibration() == cal
    assert json.loads(path.read_text())["schema_version"] == 1


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "must hold a JSON object"),
        (b'{"schema_version": 7}', "schema_version is 7"),
        (b'{"schema_version": 1, "languages": {"Python": {"files": 3}}}', "languages.Python.tokens_per_line"),
        (b'{"schema_version": 1, "surprise": true}', "surprise"),
    ],
)
def test_an_unusable_file_is_reported_and_left_untouched(content, problem):
    path = calibration_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(CalibrationFileError) as info:
        load_calibration()
    message = str(info.value)
    assert str(path) in message and problem in message and "untouched" in message
    assert path.read_bytes() == content


def test_an_interval_must_hold_its_value():
    with pytest.raises(ValueError, match="low"):
        RateInterval(value=1.0, low=2.0, high=3.0)


def test_set_aside_moves_the_file_and_a_new_one_can_be_written():
    path = calibration_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"{broken")
    moved = set_aside_calibration()
    assert moved is not None and moved.read_bytes() == b"{broken" and moved.name.startswith("calibration.json.corrupt-")
    assert not path.exists()
    save_calibration(Calibration(languages={"Python": _python()}))
    assert "Python" in load_calibration().languages
    assert set_aside_calibration(path.parent / "none.json") is None


def test_merging_replaces_a_language_and_accumulates_stage_runs():
    old = Calibration(
        languages={"Python": _python(files=5), "Go": _python(files=3)},
        output_ratios={"document/write": _stage([f"old{i}" for i in range(15)], 0.4)},
    )
    newer_samples = [
        RatioSample(run_id=f"new{i}", ratio=0.8, at=NOW + timedelta(hours=1, minutes=i)) for i in range(10)
    ]
    newer = Calibration(
        languages={"Python": _python(files=40), "Go": _python(files=9, source="runs")},
        output_ratios={"document/write": StageRatio.from_samples(newer_samples, "m", NOW)},
    )
    merged = old.merged(newer)
    assert merged.languages["Python"].files == 40
    # rates from runs alone never replace rates resting on exact counts
    assert merged.languages["Go"].files == 3 and merged.languages["Go"].source == "count_tokens"
    stage = merged.output_ratios["document/write"]
    assert len(stage.samples) == 20  # the newest 20: all 10 new, the 10 newest old
    assert [s.run_id for s in stage.samples[:10]] == [f"old{i}" for i in range(5, 15)]
    assert stage.value == pytest.approx(0.6)
    # merging the same runs again changes nothing: one sample per run
    assert merged.merged(newer).output_ratios["document/write"] == stage


def test_the_estimate_loads_no_api_client():
    code = (
        "import sys\n"
        "from attune.models.calibration import Calibration, describe_tokens, module_tokens\n"
        "mt = module_tokens(10, language='Python', size_bytes=400, multiplier=4.0, calibration=Calibration())\n"
        "print(describe_tokens(mt))\n"
        "assert 'anthropic' not in sys.modules, 'anthropic was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "≈ 40 tokens (default 4 tokens/line)"


def test_a_file_over_the_size_limit_is_refused_unread():
    path = calibration_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b" " * (1024 * 1024 + 1))
    with pytest.raises(CalibrationFileError) as info:
        load_calibration()
    assert str(path) in str(info.value) and "the limit is 1 MiB" in str(info.value)
    assert path.stat().st_size == 1024 * 1024 + 1
