"""`attune runs [--file F] [--task T] [--json]` lists the task runs the telemetry
store holds, estimate against actual; `attune runs show ID [--json]` prints one run
stage by stage.

Both only read: the store is opened read-only, so nothing is created, and a store
that does not exist yet holds no runs. Dollars are compared as API-equivalent
dollars, so a subscription run (which costs $0) is compared too.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from attune.cli.common import EXIT_OK, TASK_CHOICES, CliError, UsageError, print_json

if TYPE_CHECKING:
    from attune.models.telemetry.runs import RunRecord
    from attune.models.telemetry.store import TelemetryStore

DEFAULT_LIMIT = 100
_PATH_WIDTH_MAX = 48


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    runs = subparsers.add_parser(
        "runs",
        help="the task runs so far: estimate against actual, and the error per task",
        description="Lists the runs of `attune run`, newest first: task, file, mode, status, the "
        "estimate against what the run used (API-equivalent dollars) and the error in %%, then the "
        "median error per task. `attune runs show ID` prints one run stage by stage. Only reads.",
    )
    runs.add_argument(
        "action",
        nargs="*",
        metavar="show ID",
        help="print the run ID (its first characters will do) in full",
    )
    runs.add_argument("--file", metavar="F", help="only the runs of this file (any path to it)")
    runs.add_argument(
        "--task", choices=TASK_CHOICES, metavar="TASK", help=f"only this task's runs: {', '.join(TASK_CHOICES)}"
    )
    runs.add_argument(
        "--limit",
        type=int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"at most N runs, newest first (default {DEFAULT_LIMIT}; 1 to 10,000)",
    )
    runs.add_argument("--json", action="store_true", help="print the runs (or the run) as JSON")
    runs.set_defaults(func=cmd_runs)


def _store() -> TelemetryStore:
    from attune.models.telemetry.store import get_telemetry_store

    return get_telemetry_store(read_only=True)


def cmd_runs(args: argparse.Namespace) -> int:
    action = list(args.action)
    if action:
        if action[0] != "show" or len(action) != 2:
            raise UsageError("usage: attune runs [--file F] [--task T] [--json], or attune runs show ID [--json]")
        if args.file is not None or args.task is not None:
            raise UsageError("--file and --task filter the list; `attune runs show ID` takes neither")
        return _show(action[1], as_json=args.json)
    if not 1 <= args.limit <= 10_000:
        raise UsageError(f"--limit must be from 1 to 10,000, got {args.limit}")
    return _list(args.file, args.task, args.limit, as_json=args.json)


# ---- formatting ---------------------------------------------------------------------


def _money(value: float | None) -> str:
    from attune.models.formatting import format_money

    return "-" if value is None else format_money(value)


def _count(value: int | None) -> str:
    from attune.models.formatting import format_count

    return "-" if value is None else format_count(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def _short_path(path: str) -> str:
    return path if len(path) <= _PATH_WIDTH_MAX else "…" + path[-(_PATH_WIDTH_MAX - 1) :]


# ---- attune runs --------------------------------------------------------------------


def _list(path: str | None, task: str | None, limit: int, *, as_json: bool) -> int:
    import os

    from attune.models.telemetry.runs import median_error_by_task

    # runs record absolute paths; F may be given from any directory
    runs = _store().list_runs(path=os.path.abspath(path) if path else None, task=task, limit=limit)
    medians = median_error_by_task(runs)
    if as_json:
        print_json({"runs": [r.to_dict() for r in runs], "median_error_by_task": medians}, rows_key="runs")
        return EXIT_OK
    if not runs:
        print("No runs yet" + (" matching the filters." if path or task else ": `attune run` records each run here."))
        return EXIT_OK
    rows = [
        [
            r.run_id[:8],
            r.started_at.strftime("%Y-%m-%d %H:%M"),
            r.task,
            _short_path(r.path),
            r.mode,
            r.status + (f" ({r.error_type})" if r.error_type else ""),
            _money(r.estimated_api_cost),
            _money(r.actual_api_cost),
            _pct(r.error_pct),
        ]
        for r in runs
    ]
    headers = ["ID", "STARTED (UTC)", "TASK", "FILE", "MODE", "STATUS", "ESTIMATE", "ACTUAL", "ERROR"]
    for line in _table(headers, rows, right={6, 7, 8}):
        print(line)
    print("\nDollars are API-equivalent (a subscription run charges $0); ERROR = (actual - estimate) / estimate.")
    if medians:
        print("Median error of the ok runs, per task:")
        for name, m in medians.items():
            print(f"  {name:<10} {_pct(m['median_error_pct'])} over {m['runs']} run(s)")
    else:
        print("No finished ok run to take a median error from yet.")
    return EXIT_OK


# ---- attune runs show ID --------------------------------------------------------------


def _show(run_id: str, *, as_json: bool) -> int:
    run = _store().get_run(run_id)
    if run is None:
        raise CliError(f"no run {run_id!r} (or more than one starts so); `attune runs` lists them")
    if as_json:
        print_json({"run": run.to_dict()})
        return EXIT_OK
    _print_run(run)
    return EXIT_OK


def _print_run(run: RunRecord) -> None:
    data: dict[str, Any] = run.to_dict()
    print(f"Run {run.run_id}")
    print(f"  Task:      {run.task}")
    print(
        f"  File:      {run.path}"
        + ("" if run.lines is None else f" ({_count(run.lines)} lines, ≈{_count(run.tokens)} tokens)")
    )
    print(f"  Mode:      {run.mode} — {run.reason}" if run.reason else f"  Mode:      {run.mode}")
    status = run.status + (f" ({run.error_type})" if run.error_type else "")
    if run.status == "running":
        status += " (not finished: still running, or its process ended without finishing it)"
    print(f"  Status:    {status}")
    finished = "-" if run.finished_at is None else run.finished_at.strftime("%Y-%m-%d %H:%M:%S")
    print(f"  Started:   {run.started_at.strftime('%Y-%m-%d %H:%M:%S')} UTC; finished: {finished}")
    est, act = data["estimate"], data["actual"]
    charged = "" if run.mode == "api" else " (charged: $0, the tokens count against the plan's quota)"
    print(
        f"  Estimate:  {_count(est['input_tokens'])} in / {_count(est['output_tokens'])} out tokens, "
        f"{_money(run.estimated_api_cost)}"
    )
    print(
        f"  Actual:    {_count(act['input_tokens'])} in / {_count(act['output_tokens'])} out tokens"
        f" (+{_count(act['cache_tokens'] or 0)} cache), {_money(run.actual_api_cost)}{charged}"
    )
    print(f"  Error:     {_pct(run.error_pct)}")
    print()
    rows = [
        [
            str(s.index + 1),
            s.stage,
            s.model,
            s.status,
            f"{_count(s.estimated_input_tokens)}/{_count(s.estimated_output_tokens)}",
            f"{_count(s.input_tokens)}/{_count(s.output_tokens)}",
            _count(s.cache_tokens),
            _money(s.estimated_api_cost),
            _money(s.api_equivalent_cost),
            _pct(s.error_pct),
            "-" if s.elapsed_ms is None else f"{s.elapsed_ms / 1000:.1f}s",
        ]
        for s in run.stages
    ]
    headers = ["#", "STAGE", "MODEL", "STATUS", "EST IN/OUT", "IN/OUT", "CACHE", "EST $", "ACTUAL $", "ERROR", "TIME"]
    for line in _table(headers, rows, right={0, 4, 5, 6, 7, 8, 9, 10}):
        print(line)
