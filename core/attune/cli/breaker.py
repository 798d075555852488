"""`attune breaker status [--json]` and `attune breaker reset [PROVIDER] [--tier T]`.

Both act on the shared breaker (``get_circuit_breaker()``: ``ATTUNE_BREAKER_URL`` or the
SQLite file in the state directory) unless ``--store URL`` names another store.
``status`` opens it read-only: it creates no file (no file: every breaker is closed).
Heavy imports happen inside the handlers so `attune` starts fast.
"""

from __future__ import annotations

import argparse
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from attune.cli.common import EXIT_OK, CliError, UsageError, print_json

if TYPE_CHECKING:
    from attune.models.breaker.circuit_breaker import CircuitBreaker


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    breaker = subparsers.add_parser("breaker", help="show or reset the LLM providers' circuit breakers")
    sub = breaker.add_subparsers(dest="breaker_command", metavar="COMMAND", required=True)

    store_help = (
        "breaker store URL (memory://, sqlite:///relative.db, sqlite:////abs/path.db, redis://host:port/db); "
        "default: $ATTUNE_BREAKER_URL, else breaker.db in the state directory"
    )

    status = sub.add_parser("status", help="every breaker: state, failures, when it retries")
    status.add_argument("--json", action="store_true", help="print the store's health and get_status() as JSON")
    status.add_argument("--store", metavar="URL", help=store_help)
    status.set_defaults(func=cmd_breaker_status)

    reset = sub.add_parser("reset", help="close breakers: all, one provider (every tier), or one provider:tier")
    reset.add_argument(
        "provider",
        nargs="?",
        metavar="PROVIDER",
        help="reset this provider's breakers (all of its tiers unless --tier)",
    )
    reset.add_argument("--tier", metavar="T", help="only this tier of PROVIDER")
    reset.add_argument("--store", metavar="URL", help=store_help)
    reset.set_defaults(func=cmd_breaker_reset)


def _open_breaker(store_url: str | None, *, read_only: bool) -> tuple[CircuitBreaker, dict[str, Any]]:
    """The breaker and its store's health; an unreachable store is the command's error."""
    from attune.models.breaker.circuit_breaker import CircuitBreaker, get_circuit_breaker
    from attune.models.breaker.circuit_breaker import logger as breaker_logger
    from attune.models.breaker.stores import open_store

    # An unavailable store is reported below as the command's error; without this the
    # library's WARNING would reach stderr too (logging's last-resort handler).
    breaker_logger.addHandler(logging.NullHandler())

    try:
        if store_url:
            breaker = CircuitBreaker(store=open_store(store_url, read_only=read_only))
        else:
            breaker = get_circuit_breaker(read_only=read_only)
    except ValueError as exc:
        if store_url:  # the command line asked for it: a usage error
            raise UsageError(f"--store: {exc}") from None
        raise CliError(str(exc)) from None  # ATTUNE_BREAKER_URL: configuration
    health = breaker.store_health()
    if not health["reachable"]:
        raise CliError(f"the breaker store {health['url']} is unavailable: {health['error']}")
    return breaker, health


def _when(iso: str | None) -> str:
    if not iso:
        return "-"
    return iso.replace("T", " ").replace("+00:00", "Z")[:19] + "Z"


def _retry_text(entry: dict[str, Any], now: float) -> str:
    if entry["state"] == "closed":
        return "-"
    if entry["state"] == "half_open":
        return "now (probing)"
    if not entry["retry_at"]:
        return "-"
    seconds = max(0, round(datetime.fromisoformat(entry["retry_at"]).timestamp() - now))
    return f"in {seconds} s" if seconds < 120 else f"in {round(seconds / 60)} min"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def cmd_breaker_status(args: argparse.Namespace) -> int:
    breaker, health = _open_breaker(args.store, read_only=True)
    status = breaker.get_status()
    if args.json:
        print_json({"store": health, "breakers": status})
        return EXIT_OK
    where = health["url"]
    if not status:
        print(f"No breaker has recorded a failure ({where}): every provider is available.")
        return EXIT_OK
    now = breaker.clock()
    rows = [["KEY", "STATE", "FAILURES", "LAST ERROR", "OPENED AT", "RETRY"]]
    for key, entry in status.items():
        rows.append(
            [
                key,
                entry["state"],
                str(entry["failure_count"]),
                entry.get("last_error_type") or "-",
                _when(entry["opened_at"]),
                _retry_text(entry, now),
            ]
        )
    print(_table(rows))
    print(f"\nStore: {where}")
    return EXIT_OK


def cmd_breaker_reset(args: argparse.Namespace) -> int:
    if args.tier and not args.provider:
        raise UsageError("--tier needs a PROVIDER (for example: attune breaker reset anthropic --tier premium)")
    breaker, _ = _open_breaker(args.store, read_only=False)
    before = breaker.get_status()
    try:
        gone = breaker.reset(args.provider, args.tier)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    what = "any provider" if args.provider is None else f"{args.provider}:{args.tier}" if args.tier else args.provider
    if not gone:
        print(f"Nothing to reset: no breaker state for {what}.")
        return EXIT_OK
    for key in gone:
        entry = before.get(key)
        count = entry["failure_count"] if entry else 0
        was = f" (was {entry['state']}, {count} failure{'' if count == 1 else 's'})" if entry else ""
        print(f"Reset {key}{was}")
    return EXIT_OK
