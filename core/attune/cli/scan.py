"""`attune scan [DIR] [--task T] [--json]`: every source file under DIR, with size, mode
and the cost of task T (default ``document``); `--html PATH` writes the workspace
picture instead (``overview_page``).

Cheap to import: the scanner and the strategy are imported inside the handler.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune.cli.common import (
    EXIT_OK,
    CliError,
    UsageError,
    add_task_option,
    print_json,
    replace_file,
    stderr_is_terminal,
    warn_calibration,
)

_PROGRESS_AFTER_FILES = 200  # show progress for a tree this big ...
_PROGRESS_AFTER_SECONDS = 0.5  # ... or for a scan taking this long
_PROGRESS_EVERY_SECONDS = 0.1
_PATH_WIDTH_MAX = 72


class _Progress:
    """ "scanning: 1,234/7,733 files" on stderr, redrawn in place, erased at the end.
    Only on a terminal, and only once the scan is big or slow."""

    def __init__(self) -> None:
        self.enabled = stderr_is_terminal()
        self.started = time.monotonic()
        self.last_drawn = 0.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not self.shown and total < _PROGRESS_AFTER_FILES and now - self.started < _PROGRESS_AFTER_SECONDS:
            return
        if now - self.last_drawn < _PROGRESS_EVERY_SECONDS and done < total:
            return
        self.last_drawn, self.shown = now, True
        sys.stderr.write(f"\rscanning: {done:,}/{total:,} files")
        sys.stderr.flush()

    def erase(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _print_table(report: dict[str, Any], not_source: int, ignored: int) -> None:
    from collections import Counter

    from attune.models.formatting import format_count, format_money, plural

    rows = report["files"]
    if report["task"] != "document":
        print(f"Task: {report['task']} (the cost of running it over each file)\n")
    width = min(max([len(r["path"]) for r in rows] + [len("PATH")]), _PATH_WIDTH_MAX)
    if rows:
        print(f"{'PATH':<{width}}  {'LINES':>8}  {'CATEGORY':<8}  {'MODE':<12}  {'COST':>9}")
        for r in rows:
            note = "  generated" if r["generated"] else ""
            print(
                f"{r['path']:<{width}}  {format_count(r['lines']):>8}  {r['category']:<8}  "
                f"{r['mode']:<12}  {format_money(r['monetary_cost']):>9}{note}"
            )
        print()
    totals = report["totals"]

    def line(name: str, t: dict[str, Any]) -> str:
        return (
            f"  {name:<14}  {format_count(t['files']):>7}  {format_count(t['lines']):>10}  "
            f"{format_count(t['tokens']):>12}  {format_money(t['monetary_cost']):>10}"
        )

    print(f"{'TOTALS':<16}  {'FILES':>7}  {'LINES':>10}  {'TOKENS':>12}  {'COST':>10}")
    for title, key in (("by size", "by_category"), ("by mode", "by_mode")):
        print(title)
        for name, t in totals[key].items():
            print(line(name, t))
    print(line("all files", totals))
    if rows:  # what the tokens rest on: calibration where a language has one
        bases = Counter(r["tokens_basis"] for r in rows)
        print("\nTokens: " + "; ".join(f"{plural(n, 'file')} ({basis})" for basis, n in sorted(bases.items())))
    generated = sum(1 for r in rows if r["generated"])
    if generated:
        print(f"\n{generated} generated file(s): their size may not reflect code anyone edits by hand.")
    skipped = report["skipped"]
    if skipped:
        print(f"\nSkipped {len(skipped)} file(s):")
        for s in skipped:
            print(f"  {s['path']}: {s['reason']}")
    passed = [f"{not_source:,} not source"] if not_source else []
    if ignored:
        passed.append(f"{ignored:,} ignored (.gitignore or --exclude)")
    if passed:
        print(f"\nNot counted: {', '.join(passed)}.")


def cmd_scan(args: argparse.Namespace) -> int:
    target = Path(args.dir)
    if not target.exists():
        raise UsageError(f"{args.dir}: no such file or directory")
    if not (target.is_dir() or target.is_file()):
        raise UsageError(f"{args.dir}: not a directory or a regular file")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be 1 or more")

    if args.html is not None:
        if args.json:
            raise UsageError("--json and --html each say where the report goes: give one")
        return _write_html(args, target)
    if args.force:
        raise UsageError("--force only applies with --html")

    from attune.models.loc.scan import scan_tree

    if TYPE_CHECKING:
        from attune.models.advice import ReportBuilder
    builders: list[ReportBuilder] = []

    def load_strategy() -> None:
        # pydantic, the strategy and the calibration load while the workers count;
        # then each file is priced here as its count arrives
        from attune.models.advice import ReportBuilder, load_context

        context = load_context()
        warn_calibration(context.calibration_problem)
        builders.append(ReportBuilder(context, args.task))

    progress = _Progress()
    try:
        result = scan_tree(
            target,
            exclude=args.exclude,
            workers=args.jobs,
            progress=progress,
            while_counting=load_strategy,
            on_file=lambda rel, loc: builders[0].add(rel, loc),
        )
    finally:
        progress.erase()
    report = builders[0].finish(result)
    if args.json:
        print_json(report, rows_key="files")  # one file row per line: easy to grep, fast to write
    else:
        _print_table(report, result.not_source, result.ignored)
    return EXIT_OK


def _check_html_path(out: Path, force: bool) -> None:
    if out.exists() and not out.is_file():
        raise UsageError(f"--html {out}: not a regular file; nothing was written")
    if out.exists() and not force:
        raise CliError(f"--html {out} exists; pass --force to replace it (it is backed up first)")
    if not out.parent.is_dir():
        raise UsageError(f"--html {out}: folder {out.parent} does not exist")


def _write_html(args: argparse.Namespace, target: Path) -> int:
    """`--html PATH`: the workspace picture as one self-contained file."""
    out = Path(args.html)
    _check_html_path(out, args.force)
    from attune.cli.overview_page import overview_page
    from attune.models.advice import load_context
    from attune.models.overview import workspace_summary

    context = load_context()
    warn_calibration(context.calibration_problem)
    progress = _Progress()
    try:
        summary = workspace_summary(
            target, context=context, task=args.task, exclude=args.exclude, workers=args.jobs, progress=progress
        )
    finally:
        progress.erase()
    summary.pop("cache", None)  # how it was counted is no part of the picture
    backup = replace_file(out, overview_page(summary))
    print(out)
    if backup is not None:
        print(f"(the old file is at {backup})", file=sys.stderr)
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scan = subparsers.add_parser(
        "scan",
        help="size, recommended mode and cost of every source file in a tree",
        description="Counts every source file under DIR (respecting .gitignore; skipping .git, "
        "node_modules, virtualenvs and binaries) and recommends subscription or API for each, "
        "with totals per size category and per mode.",
    )
    scan.add_argument(
        "dir",
        nargs="?",
        default=".",
        metavar="DIR",
        help="directory (or single file) to scan; default: the current directory",
    )
    add_task_option(scan, help="the task to price per file")
    scan.add_argument("--json", action="store_true", help="print {root, task, files, totals, skipped} as JSON")
    scan.add_argument(
        "--html",
        metavar="PATH",
        help="write the workspace picture (a treemap of every file) to PATH as one self-contained HTML file",
    )
    scan.add_argument("--force", action="store_true", help="replace an existing --html file (it is backed up first)")
    scan.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="leave out paths matching PATTERN (.gitignore syntax, relative to DIR; "
        "repeatable), e.g. --exclude site-packages/",
    )
    scan.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help="processes to count with, 1 or more (default, and at most: one per CPU this process may use)",
    )
    scan.set_defaults(func=cmd_scan)
