"""`attune scan`: every source file under a directory, counted, with totals.

What is a *source file*: a file whose language ``loc`` knows from its name
(extension or a well-known name such as ``Makefile``), or an extensionless file
whose ``#!`` line names a known interpreter. Plain text (``.txt``), data and
binary formats (images, archives, ``.pyc``) are not source; they are counted as
"not source", not listed. A file that looks like source but cannot be counted
(binary content, over the size limit, unreadable) is *skipped*, with a reason.

What is walked: everything under the root except ``.gitignore``d paths (every
``.gitignore`` applies to its own subtree; those between the repository root
and the scanned directory, and ``.git/info/exclude``, apply too), version
control and cache directories (``SKIP_DIRS``), virtualenvs (any directory
holding ``pyvenv.cfg``; ``venv``/``.venv`` unless they are a Python package)
and symbolic links (so nothing is counted twice and no
link cycle is followed).

Speed: files are counted in worker processes, one per core, once a tree has
``PARALLEL_MIN_FILES`` candidates; below that a pool costs more than it saves.
More workers than this process may use CPUs (``max_workers()``) only fight over
them, so a larger ``workers`` is capped there.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune.models.loc.counter import (
    DEFAULT_MAX_BYTES,
    BinaryFileError,
    FileTooLargeError,
    LocResult,
    analyze_file,
    is_source_name,
    looks_binary,
    prepare_language,
)

if TYPE_CHECKING:  # pathspec is imported only when a tree has a .gitignore
    from pathspec import GitIgnoreSpec

__all__ = [
    "PARALLEL_MIN_FILES",
    "SKIP_DIRS",
    "VENV_NAMES",
    "ScanResult",
    "SkippedFile",
    "max_workers",
    "scan_tree",
]

logger = logging.getLogger(__name__)

# Directories that never hold the user's own source: VCS metadata, caches,
# installed dependencies.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)
# Virtualenvs: any directory holding pyvenv.cfg, and these names unless the
# directory is a Python package (the standard library has a package "venv").
VENV_NAMES = frozenset({".venv", "venv"})
PARALLEL_MIN_FILES = 200
_SNIFF_BYTES = 512  # head read from an extensionless file to look for "#!"
_CHUNKS_PER_WORKER = 12  # more, smaller chunks balance big and small files

ProgressCallback = Callable[[int, int], None]  # (files done, files to count)


@dataclass(frozen=True)
class SkippedFile:
    path: str  # relative to the scan root, with "/" separators
    reason: str


@dataclass
class ScanResult:
    root: Path  # absolute; a directory, or the one file scanned
    files: list[tuple[str, LocResult]] = field(default_factory=list)  # sorted by path
    skipped: list[SkippedFile] = field(default_factory=list)
    not_source: int = 0  # files passed over: not source by name or content
    ignored: int = 0  # files left out by .gitignore rules or an exclude pattern
    workers: int = 1  # processes that counted: 1 is this process, more is a pool of them


# ---- .gitignore -------------------------------------------------------------------


@dataclass(frozen=True)
class _Ignore:
    """One ignore file. A scan-relative path is matched as ``prefix + path[strip:]``:
    ``strip`` drops the part above the file's directory (files inside the tree),
    ``prefix`` adds the part between it and the scan root (files above the tree)."""

    spec: GitIgnoreSpec
    strip: int = 0
    prefix: str = ""


def _load_ignore(path: str, strip: int = 0, prefix: str = "") -> _Ignore | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    from pathspec import GitIgnoreSpec

    return _Ignore(GitIgnoreSpec.from_lines(lines), strip, prefix)


def _is_ignored(ignores: list[_Ignore], rel: str, is_dir: bool) -> bool:
    """Git's precedence: the deepest ignore file with a matching rule decides."""
    path = rel + "/" if is_dir else rel
    for ignore in reversed(ignores):
        verdict = ignore.spec.check_file(ignore.prefix + path[ignore.strip :]).include
        if verdict is not None:
            return verdict
    return False


def _ignores_above(root: Path) -> list[_Ignore]:
    """Ignore files of the enclosing repository that the walk does not see:
    ``.gitignore`` files above ``root`` and ``.git/info/exclude``.

    None when ``root`` itself lies in an ignored directory: the user named it,
    so only the ignore files inside it apply (say, scanning a checkout's
    ignored ``versions/`` folder)."""
    for repo in (root, *root.parents):
        if (repo / ".git").exists():
            break
    else:
        return []
    chain = [root, *root.parents]
    chain = list(reversed(chain[: chain.index(repo) + 1]))  # repo ... root
    loaded: list[tuple[Path, _Ignore]] = []  # (directory of the file, its rules)

    def relative(directory: Path, where: Path) -> str:
        rel = directory.relative_to(where).as_posix()
        return "" if rel == "." else rel + "/"

    for directory in chain:
        if loaded:  # on the way down: is this directory ignored already?
            here = [_Ignore(ignore.spec, prefix=relative(directory, where)) for where, ignore in loaded]
            if _is_ignored(here, "", is_dir=False):
                return []
        files = []
        if directory == repo:  # lowest precedence, so first
            files.append(repo / ".git" / "info" / "exclude")
        if directory != root:  # root's own .gitignore is read by the walk
            files.append(directory / ".gitignore")
        for path in files:
            if path.is_file():
                ignore = _load_ignore(str(path))
                if ignore is not None:
                    loaded.append((directory, ignore))
    return [_Ignore(ignore.spec, prefix=relative(root, where)) for where, ignore in loaded]


# ---- walking ----------------------------------------------------------------------

_Candidate = tuple[str, str, bool]  # (absolute path, relative path, sniff the head first)


def _walk(root: Path, result: ScanResult, exclude: list[_Ignore]) -> list[_Candidate]:
    candidates: list[_Candidate] = []
    stack: list[tuple[str, str, list[_Ignore]]] = [(str(root), "", _ignores_above(root))]
    while stack:
        directory, rel, ignores = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            result.skipped.append(SkippedFile(rel.rstrip("/") or ".", f"unreadable directory ({exc.strerror or exc})"))
            continue
        names = {entry.name for entry in entries}
        if rel and (
            "pyvenv.cfg" in names or (os.path.basename(directory) in VENV_NAMES and "__init__.py" not in names)
        ):
            continue  # a virtualenv
        if ".gitignore" in names:
            ignore = _load_ignore(os.path.join(directory, ".gitignore"), strip=len(rel))
            if ignore is not None:
                ignores = [*ignores, ignore]
        rules = ignores + exclude  # the caller's excludes are checked first: they always win
        subdirs = []
        for entry in entries:
            if entry.is_symlink():
                continue
            path = rel + entry.name
            if entry.is_dir():
                if entry.name in SKIP_DIRS or (rules and _is_ignored(rules, path, True)):
                    continue
                subdirs.append((entry.path, path + "/", ignores))
            elif entry.is_file():
                if rules and _is_ignored(rules, path, False):
                    result.ignored += 1
                    continue
                by_name = is_source_name(entry.name)
                if by_name is False:
                    result.not_source += 1
                else:
                    candidates.append((entry.path, path, by_name is None))
        stack.extend(reversed(subdirs))  # depth-first, in name order
    return candidates


# ---- counting ---------------------------------------------------------------------

# (relative path, outcome, payload): ("ok", LocResult), ("skipped", reason), ("not_source", None)
_Outcome = tuple[str, str, Any]


def _count_one(candidate: _Candidate, max_bytes: int | None) -> _Outcome:
    path, rel, sniff = candidate
    try:
        if sniff:  # no extension: a script only if it starts with "#!"
            with open(path, "rb") as fh:
                head = fh.read(_SNIFF_BYTES)
            if not head.startswith(b"#!"):
                if looks_binary(head):
                    return rel, "skipped", "binary"
                return rel, "not_source", None
        loc = analyze_file(path, max_bytes=max_bytes)
    except BinaryFileError:
        return rel, "skipped", "binary"
    except FileTooLargeError as exc:
        size = f"{exc.size:,} bytes" if exc.size is not None else "size"
        return rel, "skipped", f"too large ({size} > {exc.limit:,}-byte limit)"
    except OSError as exc:
        return rel, "skipped", f"unreadable ({exc.strerror or exc})"
    if sniff and loc.language == "Text":  # a "#!" for an interpreter we do not know
        return rel, "not_source", None
    return rel, "ok", loc


def _count_batch(batch: list[_Candidate], max_bytes: int | None) -> list[_Outcome]:
    return [_count_one(candidate, max_bytes) for candidate in batch]


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork starts workers in milliseconds, but is unsafe once threads run (a
    # language server, say); then pay for a fresh interpreter instead
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def max_workers() -> int:
    """The most processes a scan counts with: the CPUs this process may run on
    (its CPU affinity where the platform has one, else every CPU)."""
    process_cpu_count = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if process_cpu_count is not None:
        count = process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count()
    return max(1, count or 1)


def _chunks(items: list[_Candidate], workers: int) -> list[list[_Candidate]]:
    """Round-robin, so the big files of one directory (a test suite) spread over
    all chunks and no worker is left with the heavy tail."""
    count = max(1, min(workers * _CHUNKS_PER_WORKER, len(items) // 8))
    return [items[k::count] for k in range(count)]


def scan_tree(
    root: str | os.PathLike[str],
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    exclude: Sequence[str] = (),
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    while_counting: Callable[[], None] | None = None,
    on_file: Callable[[str, LocResult], None] | None = None,
    cached: Callable[[str], LocResult | None] | None = None,
) -> ScanResult:
    """Count every source file under ``root`` (or ``root`` itself if a file).

    ``exclude``: more patterns to leave out, in .gitignore syntax, relative
    to ``root`` ("site-packages/", "*.min.js"); no .gitignore can bring back
    what they exclude. ``workers``: processes to count with (default and most:
    ``max_workers()``, one per CPU this process may use; 1 counts in this
    process; ``result.workers`` says how many counted). ``progress(done,
    total)`` is called as files are counted.
    ``while_counting()`` runs in this process while the workers count, so the
    caller can do its own slow set-up (loading the strategy) in parallel;
    ``on_file(path, counts)`` is then called here for each file as it is
    counted (in no particular order).
    ``cached(absolute path)`` is asked for each candidate before counting: the
    counts it returns (a cache of earlier scans) are taken as they are, reported
    to ``on_file`` and ``progress`` first; None counts the file.
    Raises FileNotFoundError when ``root`` does not exist, ValueError when
    ``workers`` is below 1.
    """
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
    base = Path(root).resolve()
    if not base.exists():
        raise FileNotFoundError(f"{root}: no such file or directory")
    result = ScanResult(root=base)
    if base.is_dir():
        excluded = []
        if exclude:
            from pathspec import GitIgnoreSpec

            excluded = [_Ignore(GitIgnoreSpec.from_lines(list(exclude)))]
        candidates = _walk(base, result, excluded)
    else:
        candidates = [(str(base), base.name, False)]  # named explicitly: count it whatever it is
    hits: list[tuple[str, LocResult]] = []
    if cached is not None:
        uncached = []
        for candidate in candidates:
            loc = cached(candidate[0])
            if loc is None:
                uncached.append(candidate)
            else:
                hits.append((candidate[1], loc))
        candidates = uncached
    total = len(candidates) + len(hits)
    cap = max_workers()
    to_count = len(candidates)
    workers = min(workers or cap, cap, to_count) if to_count >= PARALLEL_MIN_FILES else 1
    outcomes: Iterable[list[_Outcome]]
    pool = None
    logger.info(
        "counting %d file(s) in %d process(es) (at most %d: the CPUs this process may use)", to_count, workers, cap
    )
    if workers > 1:
        if any(c[1].endswith(".py") for c in candidates):
            prepare_language("Python")  # compile once here; forked workers inherit it
        pool = _pool_context().Pool(workers)
        outcomes = pool.imap_unordered(partial(_count_batch, max_bytes=max_bytes), _chunks(candidates, workers))
    else:
        outcomes = (_count_batch(chunk, max_bytes) for chunk in _chunks(candidates, 1))
    try:
        if while_counting is not None:
            while_counting()
        done = len(hits)
        for rel, loc in hits:
            result.files.append((rel, loc))
            if on_file is not None:
                on_file(rel, loc)
        if hits and progress is not None:
            progress(done, total)
        for batch in outcomes:
            for rel, outcome, payload in batch:
                if outcome == "ok":
                    result.files.append((rel, payload))
                    if on_file is not None:
                        on_file(rel, payload)
                elif outcome == "skipped":
                    result.skipped.append(SkippedFile(rel, payload))
                else:
                    result.not_source += 1
            done += len(batch)
            if progress is not None:
                progress(done, total)
    finally:
        if pool is not None:
            pool.terminate()  # workers are done (or we are bailing out): no waiting
            pool.join()
    result.files.sort(key=lambda item: item[0])
    result.skipped.sort(key=lambda item: item.path)
    result.workers = workers
    return result
