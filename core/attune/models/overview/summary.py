"""``workspace_summary``: every file ``attune scan`` lists, with its size, recommended
mode, lens text and the API cost of each task, and totals per mode and per size
category: the data of the workspace picture (the editor's overview and
``attune scan --html``).

Counting is ``loc.scan.scan_tree`` behind the count cache (``cache``); pricing is
``advice``. A file's row depends only on its lines, its generated flag and, for a
calibrated language, its language and bytes: each distinct key is priced once (every
task) and copied per path; the priced keys are kept for the next summary under the
same strategy, calibration and prices.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from attune.models._internal import paths
from attune.models.advice import EstimateContext, advise, lens_summary
from attune.models.errors import AttuneError
from attune.models.loc.counter import LocResult
from attune.models.loc.scan import scan_tree
from attune.models.overview.cache import CountCache
from attune.models.pricing.pipeline import DEFAULT_TASK, task_names
from attune.models.strategy.model import AuthMode

CATEGORIES = ("small", "medium", "large")


class CancelFlag(Protocol):
    """What ``cancel`` is asked: a ``threading.Event`` will do."""

    def is_set(self) -> bool: ...


class SummaryCancelled(AttuneError):
    """The summary was cancelled before it finished; nothing was returned."""


class _Pricer:
    """Rows of files, each distinct key priced once."""

    def __init__(self, context: EstimateContext, task: str) -> None:
        self._context = context
        self._task = task
        self._tasks = task_names()
        self._calibrated = set(context.calibration.languages) if context.calibration is not None else set()
        self._priced: dict[tuple[Any, ...], dict[str, Any]] = {}

    def row(self, rel: str, loc: LocResult) -> dict[str, Any]:
        key: tuple[Any, ...] = (loc.code_lines, bool(loc.generated))
        if loc.language in self._calibrated:
            key = (*key, loc.language, loc.size_bytes)
        priced = self._priced.get(key)
        if priced is None:
            priced = self._priced[key] = self._price(loc)
        folder, _, _ = rel.rpartition("/")
        return {"path": rel, "folder": folder, "language": loc.language, **priced}

    def _price(self, loc: LocResult) -> dict[str, Any]:
        generated = bool(loc.generated)
        advice = advise(
            self._context, loc.code_lines, language=loc.language, size_bytes=loc.size_bytes, task=self._task
        )
        costs = {
            task: round(dataclasses.replace(advice, task=task).estimate(AuthMode.API).total_cost, 6)
            for task in self._tasks
        }
        rec = advice.recommendation
        return {
            "lines": loc.code_lines,
            "tokens": advice.tokens.tokens,
            "tokens_basis": advice.tokens.basis,
            "calibrated": advice.tokens.calibrated,
            "category": rec.category,
            "mode": rec.mode.value,
            "generated": generated,
            "costs": costs,
            "lens": lens_summary(advice, generated=generated),
        }


_RECENT_PRICERS = 4
_recent: list[tuple[tuple[Any, ...], _Pricer]] = []  # newest last


def _pricing_file_key() -> Any:
    try:
        st = os.stat(paths.pricing_path())
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _pricer(context: EstimateContext, task: str) -> _Pricer:
    """The pricer of an earlier summary under the same context, task and prices (a
    language server summarises the same workspace again after each save), else a new one."""
    key: tuple[Any, ...] = (task, context, _pricing_file_key())
    for seen, earlier in _recent[::-1]:
        if seen == key:
            return earlier
    pricer = _Pricer(context, task)
    _recent.append((key, pricer))
    del _recent[:-_RECENT_PRICERS]
    return pricer


def _total(tasks: tuple[str, ...]) -> dict[str, Any]:
    return {"files": 0, "tokens": 0, "costs": dict.fromkeys(tasks, 0.0)}


def _add(total: dict[str, Any], row: dict[str, Any]) -> None:
    total["files"] += 1
    total["tokens"] += row["tokens"]
    for task, cost in row["costs"].items():
        total["costs"][task] += cost


def _rounded(total: dict[str, Any]) -> dict[str, Any]:
    return {**total, "costs": {task: round(cost, 6) for task, cost in total["costs"].items()}}


def _totals(rows: list[dict[str, Any]], modes: list[str], tasks: tuple[str, ...]) -> dict[str, Any]:
    by_mode = {mode: _total(tasks) for mode in modes}
    by_category = {category: _total(tasks) for category in CATEGORIES}
    for row in rows:
        _add(by_mode.setdefault(row["mode"], _total(tasks)), row)
        _add(by_category.setdefault(row["category"], _total(tasks)), row)
    return {
        "files": len(rows),
        "tokens": sum(row["tokens"] for row in rows),
        "lines": sum(row["lines"] for row in rows),
        "by_mode": {mode: _rounded(total) for mode, total in by_mode.items()},
        "by_category": {category: _rounded(total) for category, total in by_category.items()},
    }


def workspace_summary(
    root: str | os.PathLike[str],
    *,
    context: EstimateContext,
    task: str = DEFAULT_TASK,
    progress: Callable[[int, int], None] | None = None,
    cancel: CancelFlag | None = None,
    exclude: Sequence[str] = (),
    workers: int | None = None,
    use_cache: bool = True,
) -> dict[str, Any]:
    """The summary of every source file under ``root`` (the shape is in docs/overview.md).

    ``task`` is the one the picture shades by default and the lens text quotes (every
    task's API cost is in each row). ``progress(done, total)`` is called as files are
    counted or found in the count cache; ``cancel.is_set()`` is checked before each file
    and raises SummaryCancelled. ``exclude`` and ``workers`` as for ``scan_tree``; ``use_cache=False``
    counts every file and leaves the count cache alone. Raises FileNotFoundError
    when ``root`` does not exist, ValueError for an unknown task."""
    tasks = task_names()
    if task not in tasks:
        raise ValueError(f"unknown task {task!r}; the tasks are: {', '.join(tasks)}")

    def check() -> None:
        if cancel is not None and cancel.is_set():
            raise SummaryCancelled("the workspace summary was cancelled")

    check()
    base = Path(root).resolve()
    if not base.exists():
        raise FileNotFoundError(f"{root}: no such file or directory")
    cache = CountCache(base) if use_cache else None
    if cache is not None:
        cache.load()
    pricer = _pricer(context, task)
    rows: list[dict[str, Any]] = []
    in_dir = base.is_dir()

    def lookup(path: str) -> LocResult | None:
        check()
        assert cache is not None
        return cache.lookup(path)

    def on_file(rel: str, loc: LocResult) -> None:
        check()
        if cache is not None:
            cache.add(str(base / rel) if in_dir else str(base), loc)
        rows.append(pricer.row(rel, loc))

    def on_progress(done: int, total: int) -> None:
        check()
        if progress is not None:
            progress(done, total)

    result = scan_tree(
        base,
        exclude=exclude,
        workers=workers,
        progress=on_progress,
        on_file=on_file,
        cached=lookup if cache is not None else None,
    )
    if cache is not None:
        cache.save()
    rows.sort(key=lambda row: row["path"])
    modes = [mode.value for mode in context.strategy.offered_modes]
    return {
        "root": str(result.root),
        "task": task,
        "tasks": list(tasks),
        "modes_offered": modes,
        "files": rows,
        "totals": _totals(rows, modes, tasks),
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
        "cache": {"hits": cache.hits, "misses": cache.misses} if cache is not None else None,
    }


__all__ = ["CATEGORIES", "CancelFlag", "SummaryCancelled", "workspace_summary"]
