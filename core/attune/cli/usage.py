"""`attune usage [--since DATE] [--by day|block|project|model] [--json]`: what Claude
Code used, from its own session logs (attune.models.usage), in tokens and
API-equivalent dollars.

Without ``--by`` it prints a short summary: the current 5-hour block (tokens, cost,
when it started and when it resets, and the share of the block budget when the
strategy sets one), today, and the total since ``--since``. No logs is not an error:
it says where it looked and exits 0.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from attune.cli.common import EXIT_OK, UsageError, print_json

if TYPE_CHECKING:
    from attune.models.usage import UsageBlock, UsageTotals

GROUPINGS = ("day", "block", "project", "model")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    usage = subparsers.add_parser(
        "usage",
        help="what Claude Code used, from its own logs: the current 5-hour block, today, per day/project/model",
        description="Reads Claude Code's session logs (~/.config/claude/projects and ~/.claude/projects, "
        "or CLAUDE_CONFIG_DIR; ATTUNE_CLAUDE_LOGS overrides) and shows the tokens used and their "
        "API-equivalent price: the current 5-hour block and when it resets, today, and the total. "
        "Only reads the logs; what was read is cached in usage.db in the state folder.",
    )
    usage.add_argument(
        "--since",
        metavar="DATE",
        help="count from this date (YYYY-MM-DD, local midnight) or ISO 8601 time; default: all the logs",
    )
    usage.add_argument(
        "--by", choices=GROUPINGS, metavar="{day,block,project,model}", help="one row per day, block, project or model"
    )
    usage.add_argument("--json", action="store_true", help="print the usage as JSON")
    usage.set_defaults(func=cmd_usage)


def parse_since(text: str | None) -> datetime | None:
    """``YYYY-MM-DD`` is that day's local midnight; an ISO 8601 time without an
    offset is local time."""
    if text is None:
        return None
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--since: expected a date (YYYY-MM-DD) or an ISO 8601 time, got {text!r}") from None
    return moment if moment.tzinfo is not None else moment.astimezone()


def _budget() -> int | None:
    """The strategy's block budget; a strategy file that cannot be used costs the
    budget line and one warning, never the usage itself."""
    from attune.models.errors import AttuneError
    from attune.models.usage import block_budget_tokens

    try:
        return block_budget_tokens()
    except (AttuneError, OSError) as exc:
        print(f"attune: warning: {exc} (usage shown without the block budget)", file=sys.stderr)
        return None


def cmd_usage(args: argparse.Namespace) -> int:
    since = parse_since(args.since)
    from attune.models.usage import UsageReader, budget_used_percent, log_roots

    roots = log_roots()
    with UsageReader(roots) as reader:
        stats = reader.refresh()
        if stats.files == 0:
            message = f"no Claude Code logs found at {', '.join(str(r) for r in roots)}"
            if args.json:
                print_json({"logs_found": False, "roots": [str(r) for r in roots], "message": message})
            else:
                print(message)
            return EXIT_OK
        now = datetime.now(UTC)
        block = reader.current_block(now)
        today = reader.today(now)
        total = reader.total(since)
        skipped = reader.skipped_lines()
        blocks = reader.blocks(since, now) if args.by == "block" else []
        groups = reader.by(args.by, since) if args.by in ("day", "project", "model") else []
    budget = _budget()
    used = budget_used_percent(block, budget) if block is not None and budget is not None else None
    if args.json:
        document: dict[str, Any] = {
            "logs_found": True,
            "roots": [str(r) for r in roots],
            "files": stats.files,
            "skipped_lines": skipped,
            "since": since.isoformat() if since else None,
            "current_block": block.to_dict(now) if block is not None else None,
            "block_budget_tokens": budget,
            "block_budget_used_percent": round(used, 1) if used is not None else None,
            "today": today.to_dict(),
            "total": total.to_dict(),
            "by": args.by,
        }
        if args.by is not None:
            document["rows"] = [b.to_dict(now) for b in blocks] if args.by == "block" else [g.to_dict() for g in groups]
        print_json(document, rows_key="rows" if args.by is not None else None)
        return EXIT_OK
    if args.by == "block":
        _print_blocks(blocks, now)
    elif args.by is not None:
        _print_groups(args.by, groups)
    else:
        _print_summary(block, today, total, since, now, budget, used)
    _print_notes(today, total, *([block.totals] if block else []), *groups, *(b.totals for b in blocks))
    if skipped:
        print(f"Skipped {skipped:,} log line(s) that could not be read (not JSON, or usage in another shape).")
    if args.by is None:
        print("Per day, block, project or model: attune usage --by day|block|project|model [--since YYYY-MM-DD]")
    return EXIT_OK


# ---- text ---------------------------------------------------------------------------


def _money(totals: UsageTotals) -> str:
    from attune.models.formatting import format_money

    if totals.cost_usd is None:
        return "-" if totals.entries else "$0"
    return format_money(totals.cost_usd) + ("*" if totals.unpriced_models else "")


def _tokens_line(totals: UsageTotals) -> str:
    t = totals.tokens
    return (
        f"{t.total:,} tokens  {_money(totals)}  (input {t.input:,}, output {t.output:,}, "
        f"cache write {t.cache_creation:,}, cache read {t.cache_read:,})"
    )


def _local(moment: datetime, with_date: bool = False) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def _print_summary(
    block: UsageBlock | None,
    today: UsageTotals,
    total: UsageTotals,
    since: datetime | None,
    now: datetime,
    budget: int | None,
    used: float | None,
) -> None:
    from attune.models.formatting import format_duration_short

    print("Claude Code usage from its logs (dollars at API list prices)")
    if block is None:
        print("Current 5-hour block: none active (no Claude Code message in the last 5 hours)")
    else:
        print(
            f"Current 5-hour block: started {_local(block.start)}, resets in "
            f"{format_duration_short(block.seconds_left(now))} (at {_local(block.end)})"
        )
        print(f"  {_tokens_line(block.totals)}")
        if used is not None and budget is not None:
            print(f"  {used:.0f} % of your block budget ({budget:,} tokens)")
    print(f"Today ({today.key}): {_tokens_line(today)}")
    label = f"since {_local(since, with_date=True)}" if since else "in all the logs"
    print(f"Total {label}: {_tokens_line(total)}")


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> None:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for cells in [headers, *rows]:
        print(
            "  ".join(
                c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()
        )


_TOKEN_HEADERS = ["TOKENS", "INPUT", "OUTPUT", "CACHE WRITE", "CACHE READ", "COST", "MESSAGES"]


def _token_cells(totals: UsageTotals) -> list[str]:
    t = totals.tokens
    return [f"{n:,}" for n in (t.total, t.input, t.output, t.cache_creation, t.cache_read)] + [
        _money(totals),
        f"{totals.entries:,}",
    ]


def _print_groups(grouping: str, groups: list[UsageTotals]) -> None:
    if not groups:
        print("No Claude Code messages in that time.")
        return
    header = {"day": "DAY", "project": "PROJECT", "model": "MODEL"}[grouping]
    rows = [[g.key or "(unknown)", *_token_cells(g)] for g in groups]
    _table([header, *_TOKEN_HEADERS], rows, right=set(range(1, 8)))


def _print_blocks(blocks: list[UsageBlock], now: datetime) -> None:
    from attune.models.formatting import format_duration_short

    if not blocks:
        print("No Claude Code messages in that time.")
        return
    rows = []
    for b in blocks:
        state = f"resets in {format_duration_short(b.seconds_left(now))}" if b.is_active else ""
        rows.append([f"{_local(b.start, with_date=True)}-{_local(b.end)}", *_token_cells(b.totals), state])
    _table(["BLOCK (local time)", *_TOKEN_HEADERS, ""], rows, right=set(range(1, 8)))


def _print_notes(*totals: UsageTotals) -> None:
    unpriced = sorted({m for t in totals for m in t.unpriced_models})
    if unpriced:
        print(
            f"No price for {', '.join(unpriced)}: their tokens are counted, not priced "
            "(- is no price at all, * a cost without them)."
        )
