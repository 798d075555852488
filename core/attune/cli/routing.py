"""`attune routing stats` and `attune routing best`: what the router knows and decides.

Both read the telemetry store the executor writes to (``get_telemetry_backend()``:
this machine's file, or the team's PostgreSQL) and the shared circuit breaker, so they
show what the executor in any process would see. They only read:
both are opened read-only, so no file is created (no file: no calls, every breaker
closed). Heavy modules are imported inside the handlers to keep `attune` quick to start.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

from attune.cli.common import CliError, UsageError, add_telemetry_option, print_json

if TYPE_CHECKING:
    from attune.models.routing.router import AdaptiveModelRouter


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _days(text: str) -> float:
    from attune.models.routing.router import MAX_WINDOW_DAYS

    days = _number(text)
    if not 0 < days <= MAX_WINDOW_DAYS:
        raise argparse.ArgumentTypeError(f"days must be > 0 and at most {MAX_WINDOW_DAYS:,.0f}, got {text!r}")
    return days


def _dollars(text: str) -> float:
    from attune.models.telemetry.records import MAX_COST

    dollars = _number(text)
    if not 0 <= dollars <= MAX_COST:
        raise argparse.ArgumentTypeError(f"max_cost must be from 0 to {MAX_COST:,.0f} dollars per call, got {text!r}")
    return dollars


def _latency_ms(text: str) -> float:
    from attune.models.telemetry.records import MAX_LATENCY_MS

    ms = _number(text)
    if not 0 < ms <= MAX_LATENCY_MS:
        raise argparse.ArgumentTypeError(
            f"max_latency_ms must be > 0 and at most {MAX_LATENCY_MS:,.0f} (a day), got {text!r}"
        )
    return ms


def _rate(text: str) -> float:
    rate = _number(text)
    if not 0 <= rate <= 1:
        raise argparse.ArgumentTypeError(f"min_success_rate must be from 0 to 1, got {text!r}")
    return rate


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    routing = subparsers.add_parser(
        "routing", help="what the adaptive router knows about a workflow and which model it picks"
    )
    sub = routing.add_subparsers(dest="routing_command", metavar="COMMAND", required=True)

    stats = sub.add_parser(
        "stats",
        help="per-model calls, success, latency and cost of a workflow; without one, the workflows with calls",
    )
    stats.add_argument("workflow", nargs="?", help="a workflow (default: list the workflows that have calls)")
    stats.add_argument("--stage", help="one stage only (default: every stage of the workflow)")
    stats.add_argument(
        "--days", type=_days, default=7.0, metavar="N", help="window in days (default 7; at most 36,500)"
    )
    stats.add_argument("--json", action="store_true", help="print JSON")
    add_telemetry_option(stats)
    stats.set_defaults(func=cmd_routing_stats)

    best = sub.add_parser("best", help="the model the router picks for a stage, and why")
    add_telemetry_option(best)
    best.add_argument("workflow")
    best.add_argument("stage")
    best.add_argument("--max-cost", type=_dollars, metavar="$", help="dollars per call (0 to 1,000,000)")
    best.add_argument(
        "--max-latency-ms", type=_latency_ms, metavar="MS", help="average latency limit in ms (at most a day)"
    )
    best.add_argument("--min-success-rate", type=_rate, default=0.8, metavar="R", help="0..1 (default 0.8)")
    best.add_argument("--task-type", help="e.g. chat, fix_bug (default: the stage name)")
    best.add_argument("--json", action="store_true", help="print JSON")
    best.set_defaults(func=cmd_routing_best)


def _router() -> AdaptiveModelRouter:
    from attune.models.breaker.circuit_breaker import get_circuit_breaker
    from attune.models.routing.router import AdaptiveModelRouter
    from attune.models.telemetry.backend import get_telemetry_backend

    try:
        breaker = get_circuit_breaker(read_only=True)
    except ValueError as exc:  # a bad ATTUNE_BREAKER_URL: configuration, not usage
        raise CliError(str(exc)) from None
    return AdaptiveModelRouter(get_telemetry_backend(read_only=True), breaker=breaker)


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def _perf_rows(perfs: list[dict[str, Any]]) -> list[list[str]]:
    from attune.models.formatting import format_count, format_money

    return [
        [
            p["model_id"],
            f"{p['provider']}:{p['tier']}",
            format_count(p["sample_size"]),
            _pct(p["success_rate"]),
            f"{p['avg_latency_ms']:.0f} ms",
            format_money(p["avg_cost"]),
            str(p["recent_failures"]),
            "-" if p["quality_score"] is None else f"{p['quality_score']:.3f}",
        ]
        for p in perfs
    ]


_PERF_HEADERS = ["MODEL", "BREAKER KEY", "CALLS", "SUCCESS", "AVG LATENCY", "AVG COST", "RECENT FAILS", "QUALITY"]


def _workflows(args: argparse.Namespace) -> int:
    """`attune routing stats` without a workflow: the workflows with calls in the window."""
    from datetime import UTC, datetime, timedelta

    from attune.models.formatting import format_count
    from attune.models.telemetry.backend import get_telemetry_backend
    from attune.models.telemetry.queries import MAX_QUERY_LIMIT

    if args.stage is not None:
        raise UsageError("--stage needs a WORKFLOW (for example: attune routing stats docs --stage review)")
    since = datetime.now(UTC) - timedelta(days=args.days)
    found = get_telemetry_backend(read_only=True).workflows(since=since, limit=MAX_QUERY_LIMIT)
    since_text = since.isoformat(timespec="seconds")
    if args.json:
        workflows = [{"workflow": name, "calls": calls} for name, calls in found]
        print_json({"days": args.days, "since": since_text, "workflows": workflows})
        return 0
    if not found:
        print(f"no calls recorded in the last {args.days:g} days (since {since_text})")
        return 0
    print(f"workflows with calls in the last {args.days:g} days (since {since_text}):")
    for text in _table(["WORKFLOW", "CALLS"], [[name, format_count(calls)] for name, calls in found]):
        print("  " + text)
    print("\nper model: attune routing stats WORKFLOW")
    return 0


def cmd_routing_stats(args: argparse.Namespace) -> int:
    from attune.models.formatting import format_count, format_money

    if args.workflow is None:
        return _workflows(args)
    try:
        stats = _router().get_routing_stats(args.workflow, args.stage, days=args.days)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print_json(stats)
        return 0
    scope = args.workflow + (f"/{args.stage}" if args.stage else " (all stages)")
    print(f"{scope}, last {args.days:g} days (since {stats['since']})")
    if not stats["total_calls"]:
        print("no calls recorded: the router uses each task's tier default")
        return 0
    print(
        f"calls: {format_count(stats['total_calls'])}   "
        f"success: {_pct(stats['avg_success_rate'])}   "
        f"avg cost: {format_money(stats['avg_cost'])}/call"
    )
    print()
    for line in _table(_PERF_HEADERS, _perf_rows(list(stats["performance_by_model"].values()))):
        print(line)
    return 0


def cmd_routing_best(args: argparse.Namespace) -> int:
    try:
        decision = _router().explain(
            args.workflow,
            args.stage,
            max_cost=args.max_cost,
            max_latency_ms=args.max_latency_ms,
            min_success_rate=args.min_success_rate,
            task_type=args.task_type,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print_json(decision.to_dict())
        return 0
    kind = (
        "fallback to the tier default"
        if decision.fallback
        else ("exploration" if decision.explored else "ranked by telemetry")
    )
    print(
        f"model:  {decision.model_id}  ({kind}; task tier {decision.tier}"
        + (", realtime" if decision.realtime else "")
        + ")"
    )
    print(f"reason: {decision.reason}")
    ranked = list(decision.to_dict()["candidates"])
    if ranked:
        print()
        print("candidates:")
        for line in _table(_PERF_HEADERS, _perf_rows(ranked)):
            print("  " + line)
    if decision.excluded:
        print()
        print("excluded:")
        for e in decision.excluded:
            print(f"  {e['model_id']} ({e['provider']}:{e['tier']}): {e['cause']}")
    return 0
