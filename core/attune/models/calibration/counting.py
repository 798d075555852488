"""Exact token counts of sampled files from the free ``messages.count_tokens``
endpoint, and the per-language rates learned from them.

``count_files`` sends each file as one user message through
``llm.executor.count_tokens`` (breaker-guarded; the SDK's own retries are off), so
the retry loop is here:

- a 429 (rate limit) or 529 (overloaded) is retried after the ``Retry-After`` the
  endpoint sent, else after an exponential backoff (``BACKOFF_BASE_S`` doubled per
  attempt, at most ``BACKOFF_MAX_S``), at most ``MAX_RETRIES`` times per file;
- a ``Retry-After`` over ``MAX_RETRY_AFTER_S``, retries run out, a server or
  connection failure, or an open breaker stop the counting: what was counted so far
  is kept and ``CountOutcome.stopped`` says why;
- a file the endpoint refuses (400, 413) is skipped with the reason;
- a missing or refused key raises (``MissingAPIKeyError``, ``ProviderError`` auth):
  no other file could be counted either.

A message's count includes a few tokens of framing (the role and message markers).
They are measured once, as the count of a one-character message minus one, and
taken off every file's count, so the rates are the file's own tokens.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from attune.models.calibration.model import MAX_RATE, Calibration, LanguageRates, RateInterval, Source

if TYPE_CHECKING:
    from attune.models.breaker.circuit_breaker import CircuitBreaker
    from attune.models.calibration.from_runs import ModuleSample, RunsLesson
    from attune.models.calibration.sampling import SampledFile

MAX_RETRIES = 5
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 30.0
MAX_RETRY_AFTER_S = 120.0
_PROBE = "a"  # one token in any tokenizer: its count minus one is the framing

Counter = Callable[[str], int]


@dataclass(frozen=True)
class CountedFile:
    """A sampled file and its exact tokens (framing taken off)."""

    rel: str
    language: str
    code_lines: int
    size_bytes: int
    tokens: int


@dataclass
class CountOutcome:
    """What ``count_files`` counted, what it skipped (path, reason) and, when it
    stopped before the end, why (``stopped``)."""

    model: str
    counted: list[CountedFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    stopped: str | None = None
    framing_tokens: int = 0
    waits: list[float] = field(default_factory=list)  # seconds waited before each retry


class _Stop(Exception):
    pass


def _backoff(attempt: int) -> float:
    return float(min(BACKOFF_BASE_S * 2**attempt, BACKOFF_MAX_S))


def _count_with_retries(
    text: str, count: Counter, sleep: Callable[[float], None], max_retries: int, waits: list[float]
) -> int:
    from attune.models.llm import errors as pe

    attempt = 0
    while True:
        try:
            return count(text)
        except pe.ProviderError as exc:
            if exc.error_type not in (pe.RATE_LIMIT, pe.OVERLOADED):
                raise
            if attempt >= max_retries:
                raise _Stop(
                    f"the count_tokens endpoint still said {exc.error_type.replace('_', ' ')} after "
                    f"{max_retries} retries"
                ) from None
            delay = exc.retry_after if exc.retry_after is not None else _backoff(attempt)
            if delay > MAX_RETRY_AFTER_S:
                raise _Stop(f"the count_tokens endpoint asks to wait {delay:.0f} s (rate limit)") from None
            waits.append(delay)
            sleep(delay)
            attempt += 1


def default_model() -> str:
    """The model whose tokenizer counts by default: the registry's capable model."""
    from attune.models.pricing.registry import get_model

    info = get_model("anthropic", "capable")
    assert info is not None
    return info.id


def count_files(
    files: Sequence[SampledFile],
    *,
    model: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    breaker: CircuitBreaker | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_retries: int = MAX_RETRIES,
    progress: Callable[[int, int, str], None] | None = None,
) -> CountOutcome:
    """Count ``files`` exactly (module doc). ``sleep`` is what waits between retries
    (tests pass one that records); ``progress(done, total, path)`` after each file."""
    from attune.models.llm import errors as pe
    from attune.models.llm.executor import count_tokens
    from attune.models.loc.counter import read_source

    model_id = model or default_model()

    def count(text: str) -> int:
        return count_tokens(text, model_id, api_key=api_key, base_url=base_url, breaker=breaker)

    outcome = CountOutcome(model=model_id)
    try:
        outcome.framing_tokens = max(0, _count_with_retries(_PROBE, count, sleep, max_retries, outcome.waits) - 1)
    except _Stop as exc:
        outcome.stopped = str(exc)
        return outcome
    except pe.ProviderError as exc:
        if exc.error_type in pe.FATAL:
            raise
        outcome.stopped = f"count_tokens failed ({exc.error_type}: {exc.message})"
        return outcome
    for done, sampled in enumerate(files, start=1):
        try:
            text, _, size = read_source(sampled.path)
            tokens = _count_with_retries(text, count, sleep, max_retries, outcome.waits)
        except _Stop as exc:
            outcome.stopped = str(exc)
            break
        except pe.ProviderError as exc:
            if exc.error_type in pe.FATAL:
                raise
            if exc.error_type == pe.BAD_REQUEST:
                outcome.skipped.append((sampled.rel, f"refused by count_tokens ({exc.message})"))
                continue
            outcome.stopped = f"count_tokens failed ({exc.error_type}: {exc.message})"
            break
        except (OSError, ValueError) as exc:  # changed or removed since the scan
            outcome.skipped.append((sampled.rel, f"unreadable ({exc})"))
            continue
        own = tokens - outcome.framing_tokens
        if own > 0:
            outcome.counted.append(CountedFile(sampled.rel, sampled.language, sampled.code_lines, size, own))
        if progress is not None:
            progress(done, len(files), sampled.rel)
    return outcome


def _rates(
    counted: Sequence[CountedFile],
    runs: Sequence[ModuleSample],
    model: str,
    measured_at: datetime,
    sampled_from: str | None,
) -> LanguageRates:
    per_line = [f.tokens / f.code_lines for f in counted] + [m.tokens / m.code_lines for m in runs]
    per_byte = [f.tokens / f.size_bytes for f in counted] + [m.tokens / m.size_bytes for m in runs]
    source: Source = "count_tokens+runs" if counted and runs else "count_tokens" if counted else "runs"
    return LanguageRates(
        tokens_per_line=RateInterval.from_ratios(per_line),
        tokens_per_byte=RateInterval.from_ratios(per_byte),
        files=len(per_line),
        source=source,
        model=model if counted else runs[0].model,
        measured_at=measured_at,
        sampled_from=sampled_from if counted else None,
    )


def calibrate_from_counts(
    outcome: CountOutcome | None,
    lesson: RunsLesson | None = None,
    *,
    sampled_from: str | None = None,
    measured_at: datetime | None = None,
) -> Calibration:
    """A calibration of what was counted (``outcome``) and what the runs taught
    (``lesson``); either may be None. Per language, the per-file ratios of the counted
    files and of the runs' files (a file counted here is not taken again from the
    runs) give the rates: the median and the 10th-90th percentiles. The output ratios
    are the lesson's. Merge it into the stored one with ``Calibration.merged``."""
    when = measured_at or datetime.now(UTC)
    counted: dict[str, list[CountedFile]] = {}
    for f in outcome.counted if outcome is not None else ():
        counted.setdefault(f.language, []).append(f)
    from_runs: dict[str, list[ModuleSample]] = {}
    counted_paths: set[str] = set()
    if sampled_from is not None and outcome is not None:
        counted_paths = {str(_join(sampled_from, f.rel)) for f in outcome.counted}
    for m in lesson.modules if lesson is not None else ():
        if m.path not in counted_paths and m.tokens / m.code_lines <= MAX_RATE:
            from_runs.setdefault(m.language, []).append(m)
    model = outcome.model if outcome is not None else ""
    languages = {
        language: _rates(counted.get(language, []), from_runs.get(language, []), model, when, sampled_from)
        for language in sorted(set(counted) | set(from_runs))
    }
    return Calibration(languages=languages, output_ratios=dict(lesson.output_ratios) if lesson is not None else {})


def _join(root: str, rel: str) -> str:
    from pathlib import Path

    return str(Path(root) / rel)
