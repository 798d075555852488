"""Calibration against the loopback fake API: exact counts of a stratified sample of
real code (the fake's tokenizer counts one token per 3.6 bytes), rate limits, and
what the runs of `attune run` teach."""

from __future__ import annotations

import shutil
import statistics
import sysconfig
from pathlib import Path

import pytest

from attune.models import CircuitBreaker, get_telemetry_store, run_task
from attune.models.calibration import (
    calibrate_from_counts,
    count_files,
    learn_from_runs,
    module_tokens,
    sample_files,
)
from attune.models.pricing.pipeline import get_task
from support.fake_anthropic import (
    BYTES_PER_TOKEN,
    COUNT_TOKENS_PATH,
    TEST_API_KEY,
    FakeAnthropic,
    ok,
    rate_limited,
    realistic_tokens,
)
from support.manual_clock import ManualClock

REPO = Path(__file__).resolve().parents[2]
TRUE_RATE = 1 / BYTES_PER_TOKEN


def _stdlib_modules(count: int, low: int = 2_000, high: int = 60_000) -> list[Path]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found = sorted(p for p in stdlib.glob("*.py") if low <= p.stat().st_size <= high)
    return found[:count]


def real_code_tree(root: Path, python_files: int = 30) -> Path:
    """Real code of three languages: modules of the running interpreter's standard
    library (Python) and this repository's extension sources (TypeScript, JavaScript)."""
    for source in _stdlib_modules(python_files):
        shutil.copy(source, root / source.name)
    for pattern in ("src/**/*.ts", "test/**/*.ts", "*.mjs", "scripts/*.mjs"):
        for source in (REPO / "vscode-extension").glob(pattern):
            target = root / "ext" / source.relative_to(REPO / "vscode-extension")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return root


@pytest.fixture
def breaker() -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=5, recovery_timeout_seconds=60, store="memory://", clock=ManualClock())


def _count(fake: FakeAnthropic, breaker: CircuitBreaker, files, **kw):
    return count_files(files, api_key=TEST_API_KEY, base_url=fake.base_url, breaker=breaker, **kw)


def test_the_sample_covers_each_language_and_small_and_large_files(tmp_path):
    tree = real_code_tree(tmp_path)
    sample = sample_files(tree, 12)
    languages = {f.language for f in sample.files}
    assert {"Python", "TypeScript", "JavaScript"} <= languages
    assert len(sample.files) == 12
    python = sorted(f.size_bytes for f in sample.files if f.language == "Python")
    all_python = sorted(f.stat().st_size for f in tree.glob("*.py"))
    # drawn across the size range, not the first files found
    assert python[0] < statistics.median(all_python) < python[-1]
    assert sample.population["Python"] == 30
    assert sample_files(tree, 12) == sample  # the same tree, the same sample


def test_calibration_converges_to_the_tokenizers_rate(tmp_path, realistic_api, breaker):
    tree = real_code_tree(tmp_path)
    sample = sample_files(tree, 40)
    assert len(sample.files) == 40

    outcome = _count(realistic_api, breaker, sample.files)
    cal = calibrate_from_counts(outcome, sampled_from=str(sample.root))

    assert outcome.stopped is None and len(outcome.counted) == 40
    assert len(realistic_api.requests_to(COUNT_TOKENS_PATH)) == 41  # the framing probe, then each file
    assert {"Python", "TypeScript", "JavaScript"} <= set(cal.languages)
    for rates in cal.languages.values():
        assert rates.tokens_per_byte.value == pytest.approx(TRUE_RATE, rel=0.03)
        assert rates.tokens_per_byte.low <= rates.tokens_per_byte.value <= rates.tokens_per_byte.high
        assert rates.source == "count_tokens" and rates.model == outcome.model
    assert sum(r.files for r in cal.languages.values()) == 40
    python = cal.languages["Python"]
    assert python.tokens_per_line.low < python.tokens_per_line.value < python.tokens_per_line.high

    # the calibrated estimate of a module the sample did not hold is within 3% of its count
    unseen = _stdlib_modules(40)[-1]
    text = unseen.read_text(encoding="utf-8")
    mt = module_tokens(
        10, language="Python", size_bytes=len(text.encode()), multiplier=4.0, calibration=cal
    )  # lines do not matter once bytes are known
    assert mt.calibrated and mt.tokens == pytest.approx(realistic_tokens(text), rel=0.03)


def test_a_rate_limit_waits_the_retry_after_and_completes(tmp_path, realistic_api, breaker):
    sample = sample_files(real_code_tree(tmp_path, python_files=3), 3)
    realistic_api.enqueue(
        ok(path=COUNT_TOKENS_PATH), rate_limited(1, path=COUNT_TOKENS_PATH), rate_limited(path=COUNT_TOKENS_PATH)
    )
    waits: list[float] = []

    outcome = _count(realistic_api, breaker, sample.files, sleep=waits.append)

    assert waits == [1.0, 2.0]  # Retry-After, then the second attempt's backoff (1 s doubled)
    assert outcome.stopped is None and len(outcome.counted) == 3


def test_a_rate_limit_that_lasts_stops_and_keeps_what_was_counted(tmp_path, realistic_api, breaker):
    sample = sample_files(real_code_tree(tmp_path, python_files=4), 4)
    realistic_api.enqueue(*[ok(path=COUNT_TOKENS_PATH)] * 3, *[rate_limited(0.5, path=COUNT_TOKENS_PATH)] * 3)
    waits: list[float] = []

    outcome = _count(realistic_api, breaker, sample.files, sleep=waits.append, max_retries=2)

    assert waits == [0.5, 0.5]
    assert len(outcome.counted) == 2
    assert outcome.stopped is not None and "rate limit" in outcome.stopped and "2 retries" in outcome.stopped
    cal = calibrate_from_counts(outcome)
    assert sum(r.files for r in cal.languages.values()) == 2


def test_a_long_retry_after_stops_at_once(tmp_path, realistic_api, breaker):
    sample = sample_files(real_code_tree(tmp_path, python_files=2), 2)
    realistic_api.enqueue(rate_limited(3600, path=COUNT_TOKENS_PATH))
    waits: list[float] = []
    outcome = _count(realistic_api, breaker, sample.files, sleep=waits.append)
    assert waits == [] and outcome.counted == []
    assert outcome.stopped is not None and "3600 s" in outcome.stopped


def _explain_three_modules(tmp_path, realistic_api, monkeypatch):
    """`explain` run over copies of three 4,000-12,000-byte stdlib modules, against the fake API."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", realistic_api.base_url)
    modules = []
    for source in _stdlib_modules(3, low=4_000, high=12_000):
        modules.append(tmp_path / source.name)
        shutil.copy(source, modules[-1])
    return [run_task("explain", module) for module in modules]


def test_output_ratios_are_learned_from_runs(tmp_path, realistic_api, monkeypatch):
    results = _explain_three_modules(tmp_path, realistic_api, monkeypatch)
    assert all(r.status == "ok" for r in results)

    lesson = learn_from_runs(get_telemetry_store())

    overhead = get_task("explain").stage("map").prompt_overhead
    module_tokens_of = [r.stages[0].input_tokens - overhead for r in results]  # map reads the module first
    for index, stage in enumerate(("map", "explain")):
        expected = statistics.median(
            r.stages[index].output_tokens / tokens for r, tokens in zip(results, module_tokens_of, strict=True)
        )
        learned = lesson.output_ratios[f"explain/{stage}"]
        assert learned.value == pytest.approx(expected)
        assert len(learned.samples) == 3
    assert lesson.runs == 3
    # each file's tokens teach Python's rates too (source: runs)
    cal = calibrate_from_counts(None, lesson)
    python = cal.languages["Python"]
    assert python.source == "runs" and python.files == 3
    assert set(cal.output_ratios) == {"explain/map", "explain/explain"}


def test_a_reply_cut_at_max_tokens_teaches_no_output_length(tmp_path, realistic_api, monkeypatch):
    results = _explain_three_modules(tmp_path, realistic_api, monkeypatch)
    store = get_telemetry_store()
    assert [s.stop_reason for r in results for s in store.get_run(r.run_id).stages] == ["end_turn"] * 6
    cut = results[0].stages[1]  # the first run's explain stage, recorded again as a reply cut at the limit
    store.record_stage(
        results[0].run_id, cut.index, cut.stage, cut.model, input_tokens=cut.input_tokens,
        output_tokens=cut.output_tokens, cost=cut.cost, api_equivalent_cost=cut.api_equivalent_cost,
        elapsed_ms=cut.elapsed_ms, status="ok", stop_reason="max_tokens",
    )  # fmt: skip

    lesson = learn_from_runs(store)
    assert len(lesson.output_ratios["explain/map"].samples) == 3
    assert {s.run_id for s in lesson.output_ratios["explain/explain"].samples} == {r.run_id for r in results[1:]}


def test_runs_keep_the_newest_twenty_per_stage(tmp_path, realistic_api, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", realistic_api.base_url)
    module = tmp_path / _stdlib_modules(1, low=4_000)[0].name
    shutil.copy(_stdlib_modules(1, low=4_000)[0], module)
    for _ in range(21):
        run_task("explain", module)
    lesson = learn_from_runs(get_telemetry_store())
    assert lesson.runs == 21
    assert len(lesson.output_ratios["explain/map"].samples) == 20
    assert len(lesson.modules) == 1  # one file, counted once
