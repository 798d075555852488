"""`attune spend [--since DATE] [--until DATE] [--by user|model|day|workflow|task] [--json]`:
what the API calls recorded in telemetry cost, per person, model, UTC day, workflow
or task type. With ``ATTUNE_TELEMETRY_URL`` (or ``--telemetry``) naming a team's
PostgreSQL, that is the team's spend; otherwise this machine's.

Calls still waiting in this machine's outbox are sent first (for up to two seconds),
so the figures include them.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from attune.cli.common import EXIT_OK, UsageError, add_telemetry_option, print_json

if TYPE_CHECKING:
    from attune.models.telemetry.records import SpendRow

GROUPINGS = ("user", "model", "day", "workflow", "task")
DEFAULT_DAYS = 30
OUTBOX_SEND_SECONDS = 2.0
_HEADINGS = {"user": "USER", "model": "MODEL", "day": "DAY (UTC)", "workflow": "WORKFLOW", "task": "TASK"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    spend = subparsers.add_parser(
        "spend",
        help="API spend from telemetry, per user, model, day, workflow or task (a team's with PostgreSQL)",
        description="Sums the API calls recorded in telemetry: calls, failures, tokens and dollars per user, "
        "model, UTC day, workflow or task type. The store is ATTUNE_TELEMETRY_URL (or --telemetry): "
        "this machine's SQLite file by default, or a team's PostgreSQL.",
    )
    spend.add_argument(
        "--since",
        metavar="DATE",
        help=f"from this UTC date (YYYY-MM-DD) or ISO 8601 time; default: {DEFAULT_DAYS} days ago",
    )
    spend.add_argument("--until", metavar="DATE", help="up to (not including) this UTC date or time; default: now")
    spend.add_argument(
        "--by", choices=GROUPINGS, default="user", metavar="{user,model,day,workflow,task}", help="default: user"
    )
    spend.add_argument("--json", action="store_true", help="print the rows as JSON")
    add_telemetry_option(spend)
    spend.set_defaults(func=cmd_spend)


def parse_moment(option: str, text: str) -> datetime:
    """``YYYY-MM-DD`` is that day's UTC midnight (a team spans time zones); an ISO
    8601 time without an offset is UTC too."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option}: expected a date (YYYY-MM-DD) or an ISO 8601 time, got {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def cmd_spend(args: argparse.Namespace) -> int:
    from attune.models.telemetry.backend import describe, get_telemetry_backend, send_waiting_calls

    now = datetime.now(UTC)
    since = parse_moment("--since", args.since) if args.since else _midnight(now - timedelta(days=DEFAULT_DAYS))
    until = parse_moment("--until", args.until) if args.until else None
    if until is not None and until <= since:
        raise UsageError(f"--until ({until.isoformat()}) must be after --since ({since.isoformat()})")
    if since > now:
        raise UsageError(f"--since ({since.isoformat()}) is in the future")
    send_waiting_calls(OUTBOX_SEND_SECONDS)
    store = describe()
    rows = get_telemetry_backend(read_only=True).spend(args.by, since=since, until=until)
    total = _total(rows)
    if args.json:
        print_json(
            {
                "by": args.by,
                "since": since.isoformat(),
                "until": until.isoformat() if until else None,
                "telemetry": store,
                "rows": [_row_dict(r) for r in rows],
                "total": _row_dict(total),
            },
            rows_key="rows",
        )
        return EXIT_OK
    span = f"{_when(since)} to {_when(until) if until else 'now'}"
    if not rows:
        print(f"No API calls recorded from {span} ({store}).")
        return EXIT_OK
    print(f"API spend from {span}, by {args.by} ({store})")
    _print_table(args.by, [*rows, total])
    return EXIT_OK


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _when(moment: datetime) -> str:
    return moment.date().isoformat() if moment == _midnight(moment) else moment.isoformat(timespec="minutes")


def _total(rows: list[SpendRow]) -> SpendRow:
    from attune.models.telemetry.records import SpendRow

    return SpendRow(
        key="TOTAL",
        calls=sum(r.calls for r in rows),
        failures=sum(r.failures for r in rows),
        tokens_input=sum(r.tokens_input for r in rows),
        tokens_output=sum(r.tokens_output for r in rows),
        cost=sum(r.cost for r in rows),
    )


def _row_dict(row: SpendRow) -> dict[str, object]:
    return {
        "key": row.key,
        "calls": row.calls,
        "failures": row.failures,
        "tokens_input": row.tokens_input,
        "tokens_output": row.tokens_output,
        "cost": round(row.cost, 6),
    }


def _print_table(by: str, rows: list[SpendRow]) -> None:
    from attune.models.formatting import format_money

    counts = ((r.calls, r.failures, r.tokens_input, r.tokens_output) for r in rows)
    cells = [
        (r.key or "(not recorded)", *(f"{n:,}" for n in numbers), format_money(r.cost))
        for r, numbers in zip(rows, counts, strict=True)
    ]
    header = (_HEADINGS[by], "CALLS", "FAILED", "INPUT TOKENS", "OUTPUT TOKENS", "COST")
    widths = [max(len(header[i]), *(len(c[i]) for c in cells)) for i in range(len(header))]
    for line in (header, *cells):
        print("  ".join(line[0].ljust(widths[0]) if i == 0 else line[i].rjust(widths[i]) for i in range(len(line))))
