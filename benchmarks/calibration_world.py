"""The world of the calibration benchmark: its corpus and its runs.

The corpus is real code nobody here wrote, in three languages, found on the machine:

- Python: the running interpreter's standard library (``sysconfig``), without
  ``site-packages``, test folders and IDLE;
- JavaScript: the hand-written sources of well-known npm packages in the extension's
  ``node_modules`` (eslint's, undici's and commander's ``lib/``; no bundles);
- C headers: ``/usr/include`` without its C++ trees (``c++``, ``llvm-*``, ``node``, ICU's
  ``unicode``).

Files with fewer than ``MIN_CODE_LINES`` code lines or more than ``MAX_LINES`` lines
are left out. Each language's files are sorted, put in size strata by code lines
(``STRATA``) and shuffled per stratum by a generator seeded with the seed, the
language and the stratum: the first files of each stratum are held out for measuring,
the next ones calibrate. The two sets never share a file, and the choice never sees a
result.

``World`` is the place the runs happen: the fake Anthropic API (``realistic=True``)
started in this process, ``ATTUNE_HOME`` in a temporary folder, the key and base URL
of the fake in the environment, and the chosen files copied under ``modules/`` there.
Runs name the copies by a path relative to that folder, so the prompts (and with them
the fake's seeded output lengths) are the same on every run of the benchmark.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "core"))

from support.fake_anthropic import MESSAGES_PATH, TEST_API_KEY, FakeAnthropic  # noqa: E402

MIN_CODE_LINES = 20
MAX_LINES = 3000
# strata of code lines: [low, high)
STRATA: tuple[tuple[int, int], ...] = ((20, 100), (100, 300), (300, 1000), (1000, MAX_LINES + 1))
NODE_PACKAGES = ("eslint/lib", "undici/lib", "commander/lib")
CXX_INCLUDE_TREES = ("c++", "node", "unicode")  # and every llvm-* tree


@dataclass(frozen=True)
class Source:
    """Where one language's files come from."""

    language: str  # the line counter's name for it
    roots: tuple[Path, ...]
    suffix: str
    skip_parts: tuple[str, ...] = ()
    skip_prefixes: tuple[str, ...] = ()
    label_root: Path | None = None  # files are named from here (default: each root's parent)

    def files(self) -> list[tuple[Path, str]]:
        """(path, label) of every candidate file, sorted; the label names it from its root."""
        found: list[tuple[Path, str]] = []
        for root in self.roots:
            for path in sorted(root.rglob(f"*{self.suffix}")):
                parts = path.relative_to(root).parts[:-1]
                if any(p in self.skip_parts or p.startswith(self.skip_prefixes) for p in parts):
                    continue
                if path.is_file() and not path.is_symlink():
                    found.append((path, path.relative_to(self.label_root or root.parent).as_posix()))
        return found


def sources() -> tuple[Source, ...]:
    node_modules = ROOT / "vscode-extension" / "node_modules"
    return (
        Source(
            "Python",
            (Path(sysconfig.get_paths()["stdlib"]),),
            ".py",
            skip_parts=("site-packages", "test", "tests", "idlelib", "__pycache__"),
        ),
        Source("JavaScript", tuple(node_modules / p for p in NODE_PACKAGES), ".js", label_root=node_modules),
        Source("C/C++ Header", (Path("/usr/include"),), ".h", skip_parts=CXX_INCLUDE_TREES, skip_prefixes=("llvm-",)),
    )


@dataclass(frozen=True)
class Module:
    """One chosen file: where it is, its language and size, and its stratum."""

    source: Path
    label: str  # the file named from the root of its tree (the standard library, a package, /usr/include)
    language: str
    code_lines: int
    total_lines: int
    size_bytes: int
    stratum: int


@dataclass(frozen=True)
class Corpus:
    held_out: tuple[Module, ...]
    calibration: tuple[Module, ...]
    pool_sizes: dict[str, int] = field(default_factory=dict)  # eligible files per language


def _split(total: int, parts: int) -> list[int]:
    """``total`` over ``parts`` as evenly as possible, the extra ones to the first parts."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def choose_corpus(held_out: int = 50, calibration: int = 20, seed: int = 7) -> Corpus:
    """The held-out and calibration modules: per language a share of each count, per
    stratum a share of that, drawn from the sorted files by a seeded shuffle."""
    from attune.models.loc.counter import LocError, analyze_file

    langs = sources()
    missing = [str(root) for s in langs for root in s.roots if not root.is_dir()]
    if missing:
        raise SystemExit(f"bench_calibration: the corpus needs {', '.join(missing)} (run npm ci in vscode-extension/)")
    chosen_held: list[Module] = []
    chosen_cal: list[Module] = []
    pool_sizes: dict[str, int] = {}
    for source, n_held, n_cal in zip(langs, _split(held_out, len(langs)), _split(calibration, len(langs)), strict=True):
        by_stratum: list[list[Module]] = [[] for _ in STRATA]
        for path, label in source.files():
            try:
                loc = analyze_file(path)
            except (LocError, OSError):
                continue
            if loc.code_lines < MIN_CODE_LINES or loc.total_lines > MAX_LINES:
                continue
            for index, (low, high) in enumerate(STRATA):
                if low <= loc.code_lines < high:
                    by_stratum[index].append(
                        Module(path, label, source.language, loc.code_lines, loc.total_lines, loc.size_bytes, index)
                    )
        pool_sizes[source.language] = sum(len(s) for s in by_stratum)
        for index, (files, h, c) in enumerate(
            zip(by_stratum, _split(n_held, len(STRATA)), _split(n_cal, len(STRATA)), strict=True)
        ):
            if len(files) < h + c:
                raise SystemExit(
                    f"bench_calibration: {source.language} has {len(files)} files of {STRATA[index][0]}-"
                    f"{STRATA[index][1] - 1} code lines, {h + c} needed"
                )
            order = list(files)
            random.Random(f"{seed}:{source.language}:{index}").shuffle(order)
            chosen_held.extend(order[:h])
            chosen_cal.extend(order[h : h + c])
    return Corpus(tuple(chosen_held), tuple(chosen_cal), pool_sizes)


# ---- the world ------------------------------------------------------------------------


@dataclass
class Actual:
    """One run's outcome beside what it was planned at."""

    module: Module
    path: str  # the copy, relative to the world's folder
    lines: int  # the code lines the plan counted
    planned_tokens: int  # the plan's module tokens
    planned_cost: float  # the plan's API dollars
    planned_stages: dict[str, tuple[int, int]]  # stage -> (input, output) tokens planned
    tokens_basis: str  # what the plan's module tokens rest on
    calibrated_stages: tuple[str, ...]  # the stages the plan priced with a calibrated ratio
    cost: float  # API-equivalent dollars of the run
    stages: dict[str, tuple[int, int]]  # stage -> (input, output) tokens of the run
    max_tokens: dict[str, int] = field(default_factory=dict)  # stage -> the max_tokens its request asked for
    module_tokens: int = 0  # count_tokens of the file
    run_id: Any = None


class World:
    """The fake API, ``ATTUNE_HOME`` and the copies of the modules; a context manager
    that restores the environment and the working folder on exit."""

    ENV = (
        "ATTUNE_HOME",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
        "ATTUNE_BREAKER_URL",
        "ATTUNE_CLAUDE_LOGS",
        "CLAUDE_CONFIG_DIR",
    )

    def __init__(self, seed: int = 0, concurrency: int = 8) -> None:
        self.seed = seed
        self.concurrency = concurrency
        self.fake = FakeAnthropic(realistic=True, seed=seed)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._saved_env: dict[str, str | None] = {}
        self._saved_cwd = ""
        self.home = Path()

    def __enter__(self) -> World:
        self._tmp = tempfile.TemporaryDirectory(prefix="attune-bench-calibration-")
        self.home = Path(self._tmp.name)
        self.fake.start()
        self._saved_env = {name: os.environ.get(name) for name in self.ENV}
        os.environ.pop("ATTUNE_BREAKER_URL", None)  # the breaker in ATTUNE_HOME, not a shared Redis
        os.environ.pop("CLAUDE_CONFIG_DIR", None)
        # the plan never reads the user's own Claude Code logs
        os.environ["ATTUNE_CLAUDE_LOGS"] = str(self.home / "no-claude-logs")
        os.environ.update(
            ATTUNE_HOME=str(self.home / "attune"), ANTHROPIC_API_KEY=TEST_API_KEY, ANTHROPIC_BASE_URL=self.fake.base_url
        )
        self._saved_cwd = os.getcwd()
        os.chdir(self.home)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        os.chdir(self._saved_cwd)
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self.fake.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def place(self, modules: Iterable[Module], group: str) -> list[str]:
        """Copy the modules under ``modules/<group>/``; their paths relative to the world."""
        paths = []
        for number, module in enumerate(modules):
            rel = Path("modules") / group / f"{number:02d}-{module.source.name}"
            (self.home / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(module.source, self.home / rel)
            paths.append(rel.as_posix())
        return paths

    async def count(self, paths: Sequence[str]) -> list[int]:
        """count_tokens of each file's text (as one user message), through the library."""
        from attune.models.llm.executor import acount_tokens
        from attune.models.loc.counter import read_source

        gate = asyncio.Semaphore(self.concurrency)

        async def one(path: str) -> int:
            async with gate:
                return await acount_tokens(read_source(path)[0])

        return list(await asyncio.gather(*(one(p) for p in paths)))

    async def run(self, task: str, modules: Sequence[Module], paths: Sequence[str]) -> list[Actual]:
        """Run ``task`` over each module in API mode through the real SDK against the
        fake (``plan_run`` + ``execute_plan``, one shared executor), a few at a time."""
        from attune.models.llm.executor import EmpathyLLMExecutor
        from attune.models.runs.runner import execute_plan, plan_run

        gate = asyncio.Semaphore(self.concurrency)
        executor = EmpathyLLMExecutor()
        seen = len(self.fake.requests)

        async def one(module: Module, path: str) -> Actual:
            async with gate:
                plan = plan_run(task, path, mode="api")
                result = await execute_plan(plan, executor=executor)
            if result.status != "ok":
                raise SystemExit(f"bench_calibration: the {task} run over {path} ended {result.status}: {result.error}")
            return Actual(
                module=module,
                path=path,
                lines=plan.lines,
                planned_tokens=plan.estimate.tokens,
                planned_cost=plan.estimate.api_cost,
                planned_stages={s.stage: (s.input_tokens, s.output_tokens) for s in plan.estimate.stages},
                tokens_basis=plan.estimate.tokens_basis or "",
                calibrated_stages=plan.estimate.calibrated_stages,
                cost=result.api_equivalent_cost,
                stages={s.stage: (s.input_tokens, s.output_tokens) for s in result.stages},
                run_id=result.run_id,
            )

        try:
            actuals = list(await asyncio.gather(*(one(m, p) for m, p in zip(modules, paths, strict=True))))
        finally:
            await executor.aclose()
        asked = self._max_tokens(task, self.fake.requests[seen:])
        for actual in actuals:
            missing = [stage for stage in actual.stages if (actual.path, stage) not in asked]
            if missing:
                raise SystemExit(f"bench_calibration: the fake got no {', '.join(missing)} request for {actual.path}")
            actual.max_tokens = {stage: asked[(actual.path, stage)] for stage in actual.stages}
        for actual, tokens in zip(actuals, await self.count(paths), strict=True):
            actual.module_tokens = tokens
        return actuals

    @staticmethod
    def _max_tokens(task: str, requests: Sequence[Any]) -> dict[tuple[str, str], int]:
        """(path, stage) -> the max_tokens of the request the fake got for it: the stage
        by its system prompt, the path by the backquoted name in the user prompt."""
        from attune.models.pricing.pipeline import get_task

        stages = {stage.system: stage.name for stage in get_task(task).stages}
        if len(stages) != len(get_task(task).stages) or any("{" in system for system in stages):
            raise SystemExit(f"bench_calibration: the stages of {task} cannot be told apart by their system prompts")
        asked: dict[tuple[str, str], int] = {}
        for request in requests:
            if request.path != MESSAGES_PATH or request.body.get("system") not in stages:
                continue
            user = request.body["messages"][0]["content"]
            path = user.split("`", 2)[1] if user.count("`") >= 2 else ""
            asked[(path, stages[request.body["system"]])] = int(request.body["max_tokens"])
        return asked
