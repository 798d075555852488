"""The files of a folder that ``attune calibrate`` counts: a sample stratified by
language and by size.

Which files can be sampled: the source files ``loc.scan.scan_tree`` lists (so
``.gitignore``, virtualenvs and caches are left out) that have code lines, are not
generated, and are at most ``SAMPLE_MAX_BYTES`` (a larger file would be a large
upload for one figure).

How ``n`` files are chosen:

1. per language, a quota: first one file each (most common languages first) while
   the budget lasts, then the rest in proportion to how many files the language
   has (largest shortfall first), never more than it has;
2. within a language, its files sorted by size are cut into as many equal bins as
   its quota and the middle file of each bin is taken, so small and large files are
   both represented (size quantile bins).

The choice is deterministic: the same tree gives the same sample.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_MAX_BYTES = 256 * 1024
DEFAULT_SAMPLE = 40


@dataclass(frozen=True)
class SampledFile:
    path: Path  # absolute
    rel: str  # relative to the sampled folder, "/" separators
    language: str  # loc's name, e.g. "Python"
    code_lines: int
    size_bytes: int


@dataclass(frozen=True)
class Sample:
    """The sample, and how many files of each language the folder has that could be
    sampled (``population``: the weights of the folder-wide tokens per line)."""

    root: Path
    files: list[SampledFile]
    population: dict[str, int] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)


def _quotas(counts: dict[str, int], n: int) -> dict[str, int]:
    quotas = dict.fromkeys(counts, 0)
    budget = min(n, sum(counts.values()))
    for language in sorted(counts, key=lambda lang: (-counts[lang], lang)):
        if budget == 0:
            break
        quotas[language] = 1
        budget -= 1
    total = sum(counts.values())
    while budget > 0:
        open_ = [lang for lang in counts if quotas[lang] < counts[lang]]
        language = max(open_, key=lambda lang: (counts[lang] * n / total - quotas[lang], counts[lang], lang))
        quotas[language] += 1
        budget -= 1
    return quotas


def _spread(files: list[SampledFile], k: int) -> list[SampledFile]:
    ordered = sorted(files, key=lambda f: (f.size_bytes, f.rel))
    m = len(ordered)
    return [ordered[(2 * i + 1) * m // (2 * k)] for i in range(k)]


def sample_files(
    root: str | os.PathLike[str],
    n: int = DEFAULT_SAMPLE,
    *,
    max_bytes: int = SAMPLE_MAX_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> Sample:
    """A sample of at most ``n`` source files of ``root``, stratified by language and
    size (module doc). ValueError for ``n`` below 1; FileNotFoundError for a missing
    ``root``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the sample size must be a whole number >= 1, got {n!r}")
    from attune.models.loc.scan import scan_tree

    scan = scan_tree(root, progress=progress)
    by_language: dict[str, list[SampledFile]] = {}
    for rel, loc in scan.files:
        if loc.code_lines <= 0 or loc.generated or not 0 < loc.size_bytes <= max_bytes or loc.language == "Text":
            continue
        path = scan.root / rel if scan.root.is_dir() else scan.root
        by_language.setdefault(loc.language, []).append(
            SampledFile(path, rel, loc.language, loc.code_lines, loc.size_bytes)
        )
    population = {lang: len(files) for lang, files in sorted(by_language.items())}
    quotas = _quotas(population, n)
    chosen = [f for lang, files in by_language.items() if quotas[lang] for f in _spread(files, quotas[lang])]
    chosen.sort(key=lambda f: f.rel)
    return Sample(scan.root, chosen, population)
