"""`attune run TASK FILE`: run a task's stages over one file, after a preview.

The preview (per stage: model, input and output tokens, dollars; the total; the mode
and why; where the output goes) comes first. On a terminal attune asks before
spending; elsewhere it needs --yes. --dry-run stops after the preview (it sends
nothing and does not load the API client). --max-cost refuses a run whose preview
costs more. Ctrl-C cancels the stage in flight (finished stages stay recorded) and
exits 130. The output goes to stdout or to --out, which never replaces an existing
file without --force (and then the old file is backed up next to it first).
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune.cli.common import (
    EXIT_OK,
    EXIT_RUNTIME,
    CliError,
    UsageError,
    print_json,
    replace_file,
    stderr_is_terminal,
    stdin_is_terminal,
)

if TYPE_CHECKING:
    from attune.models.runs.runner import RunPlan, RunProgress, RunResult

EXIT_CANCELLED = 130


def _money(dollars: float) -> str:
    from attune.models.formatting import format_money

    return format_money(dollars)


def _dollars(text: str) -> float:
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an amount of dollars: {text!r}") from None
    if not math.isfinite(value) or value < 0 or value > 1_000_000:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1,000,000 dollars, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0 or value > 86_400:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 86400 seconds, got {text!r}")
    return value


def preview_lines(plan: RunPlan, out: str | None) -> list[str]:
    """The preview, one string per line."""
    from attune.models.formatting import format_count

    est = plan.estimate
    on_api = plan.mode == "api"
    lines = [
        f"attune run {plan.task.name} {plan.path} ({format_count(plan.lines)} lines of {plan.language})",
        f"Mode: {'API' if on_api else 'subscription (Claude Code)'}. {plan.reason}",
        f"Module: ≈{format_count(est.tokens)} tokens ({est.tokens_basis or 'given'})"
        + (
            f"; outputs of {', '.join(est.calibrated_stages)} calibrated from past runs"
            if est.calibrated_stages
            else ""
        ),
    ]
    rows = [("stage", "model", "input", "output", "cost" if on_api else "API equivalent")]
    for s in est.stages:
        cost = s.cost if on_api else s.api_cost
        rows.append((s.stage, s.model, format_count(s.input_tokens), format_count(s.output_tokens), _money(cost)))
    total_in = sum(s.input_tokens for s in est.stages)
    total_out = sum(s.output_tokens for s in est.stages)
    rows.append(
        (
            "total",
            "",
            format_count(total_in),
            format_count(total_out),
            _money(est.total_cost if on_api else est.api_cost),
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        lines.append(
            f"  {r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}  {r[4]:>{widths[4]}}"
        )
    if on_api:
        lines.append(f"Total: ≈{_money(est.total_cost)} charged to your API key (an estimate; the run records actuals)")
    else:
        lines.append(
            f"Total: $0 — ≈{format_count(est.quota_tokens)} tokens of your subscription's quota "
            f"(≈{_money(est.api_cost)} on the API)"
        )
    lines.append(f"Output: {plan.task.output_hint}, to {out if out else 'stdout'}")
    return lines


class _Progress:
    """Per-stage progress on stderr: a line per stage, its elapsed time kept current."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: RunProgress | None = None
        self._started = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="attune-run-progress", daemon=True)
        self._thread.start()

    def _line(self, p: RunProgress, elapsed_s: float) -> str:
        from attune.models.formatting import format_count

        return (
            f"[{p.index + 1}/{p.count}] {p.stage} · {p.model} · {elapsed_s:.1f} s · "
            f"{format_count(p.tokens_so_far)} tokens so far"
        )

    def __call__(self, p: RunProgress) -> None:
        with self._lock:
            if p.event == "start":
                self._current, self._started = p, time.monotonic()
                sys.stderr.write(self._line(p, 0.0))
            else:
                self._current = None
                sys.stderr.write("\r\033[K" + self._line(p, p.elapsed_ms / 1000.0) + f" · {p.status}\n")
            sys.stderr.flush()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                if self._current is not None:
                    sys.stderr.write("\r\033[K" + self._line(self._current, time.monotonic() - self._started))
                    sys.stderr.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)


def _check_out(out: Path | None, force: bool) -> None:
    if out is None:
        return
    if out.exists() and not out.is_file():
        raise UsageError(f"--out {out}: not a regular file; nothing was run")
    if out.exists() and not force:
        raise CliError(f"--out {out} exists; pass --force to replace it (it is backed up first). Nothing was run.")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: folder {out.parent} does not exist; nothing was run")


def _confirm(plan: RunPlan) -> bool:
    if not stdin_is_terminal():
        raise UsageError(
            "refusing to run without confirmation: no terminal to ask on. "
            "Pass --yes to run (or --dry-run to see the preview only). Nothing was sent."
        )
    if plan.mode == "api":
        question = f"Spend ≈{_money(plan.estimate.total_cost)} on the API? [y/N] "
    else:
        question = f"Run {len(plan.estimate.stages)} stages on your subscription? [y/N] "
    sys.stderr.write(question)
    sys.stderr.flush()
    answer = sys.stdin.readline()  # Ctrl-C here: "interrupted", exit 130, nothing sent
    return answer.strip().lower() in ("y", "yes")


def cmd_run(args: argparse.Namespace) -> int:
    from attune.models.pricing.pipeline import get_task, task_names

    if args.task not in task_names():
        raise UsageError(f"no task {args.task!r}; tasks: {', '.join(task_names())}")
    try:
        task = get_task(args.task)
    except ValueError as exc:  # its file is broken
        raise CliError(str(exc)) from None
    from attune.models.runs.runner import RunError, plan_run

    try:
        plan = plan_run(task, args.file, mode=args.mode)
    except RunError as exc:
        raise CliError(str(exc)) from None
    out = Path(args.out) if args.out else None
    preview = preview_lines(plan, args.out)
    if args.dry_run:
        if args.json:
            print_json({"dry_run": True, **plan.to_dict()})
        else:
            sys.stdout.write("\n".join(preview) + "\n")
        return EXIT_OK
    sys.stderr.write("\n".join(preview) + "\n")
    charged = plan.estimate.total_cost if plan.mode == "api" else 0.0
    if args.max_cost is not None and charged > args.max_cost:
        raise CliError(f"the preview's ≈{_money(charged)} is over --max-cost {_money(args.max_cost)}; nothing was sent")
    _check_out(out, args.force)
    if not args.yes and not _confirm(plan):
        sys.stderr.write("Nothing was sent.\n")
        return EXIT_OK
    from attune.cli.otel import exported

    result = exported(_execute, plan, args)  # with spans and metrics exported when OTEL_* asks
    return _report(result, out, args)


def _execute(plan: RunPlan, args: argparse.Namespace) -> RunResult:
    import asyncio

    from attune.models.runs.runner import RunError, execute_plan

    cancel = threading.Event()

    def on_sigint(*args: Any) -> None:
        if cancel.is_set():  # a second Ctrl-C: stop waiting for the cancellation
            signal.default_int_handler(*args)
        cancel.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    progress = _Progress() if stderr_is_terminal() else None
    try:
        return asyncio.run(execute_plan(plan, on_progress=progress, cancel=cancel, timeout=args.timeout))
    except RunError as exc:
        raise CliError(str(exc)) from None
    finally:
        if progress is not None:
            progress.close()
        signal.signal(signal.SIGINT, previous)


def _report(result: RunResult, out: Path | None, args: argparse.Namespace) -> int:
    backup = None
    if result.status == "ok" and out is not None:
        backup = replace_file(out, result.output if result.output.endswith("\n") else result.output + "\n")
    if args.json:
        data = result.to_dict()
        if out is not None:
            data.update(out=str(out), backup=str(backup) if backup else None)
            data.pop("output")
        print_json(data)
    elif result.status == "ok" and out is None:
        sys.stdout.write(result.output if result.output.endswith("\n") else result.output + "\n")
    money = (
        f"{_money(result.cost)}"
        if result.mode == "api"
        else f"$0 (≈{_money(result.api_equivalent_cost)} on the API, from your subscription)"
    )
    for s in result.stages:
        if s.fallbacks:
            sys.stderr.write(f"attune: stage {s.stage} ran on {s.model} after: {'; '.join(s.fallbacks)}\n")
    done = sum(1 for s in result.stages if s.status == "ok")
    run = f"run {result.run_id}" if result.run_id else "run (not recorded)"
    if result.status == "ok":
        where = f" to {out}" + (f" (the old file is at {backup})" if backup else "") if out else ""
        sys.stderr.write(f"Done{where}: {done} stages, {result.tokens:,} tokens, {money}; {run}\n")
        return EXIT_OK
    if result.status == "cancelled":
        sys.stderr.write(
            f"attune: {result.error}; {done} finished stage(s) kept in {run}, {money} spent. Nothing was written.\n"
        )
        return EXIT_CANCELLED
    sys.stderr.write(f"attune: run failed: {result.error}\n")
    sys.stderr.write(f"attune: {done} stage(s) finished ({money}); {run} is marked failed. Nothing was written.\n")
    return EXIT_RUNTIME


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = subparsers.add_parser(
        "run",
        help="run a task's stages over one file (preview, then confirm)",
        description="Runs TASK (e.g. document, explain, review, tests) over FILE: a preview of every "
        "stage's model, tokens and cost first, then the stages in order on the API or your "
        "subscription (Claude Code). Asks before spending on a terminal; elsewhere needs --yes.",
    )
    run.add_argument("task", metavar="TASK", help="the task to run (see `attune auth status` for the tasks)")
    run.add_argument("file", metavar="FILE", help="the source file to run it over")
    run.add_argument(
        "--mode", choices=("api", "subscription"), help="run on this instead of the strategy's recommendation"
    )
    run.add_argument("--dry-run", action="store_true", help="print the preview and stop; nothing is sent")
    run.add_argument("--yes", "-y", action="store_true", help="do not ask before spending")
    run.add_argument(
        "--max-cost", type=_dollars, metavar="DOLLARS", help="refuse (exit 1) when the preview costs more than this"
    )
    run.add_argument(
        "--timeout", type=_seconds, metavar="SECONDS", help="stop a stage that takes longer (the run fails)"
    )
    run.add_argument("--out", metavar="PATH", help="write the output here instead of stdout")
    run.add_argument("--force", action="store_true", help="replace an existing --out file (backed up first)")
    run.add_argument("--json", action="store_true", help="print the run record (or the preview) as JSON")
    run.set_defaults(func=cmd_run)
