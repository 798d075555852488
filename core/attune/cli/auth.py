"""`attune auth …`: set up, inspect, reset, restore and apply the auth strategy.

Handlers take the parsed args and return an exit code, and import heavy modules
inside, so `attune auth recommend` starts fast (no anthropic, no pygls).

``cmd_auth_setup``, ``cmd_auth_status``, ``cmd_auth_reset``, ``cmd_auth_recommend``
and ``main`` are public and stable. Called from code with no arguments they behave
as the bare command would: nothing destructive happens without a confirmation on a
terminal or an explicit ``yes``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from attune.cli.common import (
    EXIT_OK,
    CliError,
    UsageError,
    add_task_option,
    print_json,
    stdin_is_terminal,
    warn_calibration,
)

_SETUP_FIELDS = {  # CLI flag dest -> strategy field
    "tier": "subscription_tier",
    "mode": "default_mode",
    "prefer_subscription": "prefer_subscription",
    "small_threshold": "small_module_threshold",
    "medium_threshold": "medium_module_threshold",
    "multiplier": "loc_to_tokens_multiplier",
    "block_budget": "subscription_block_budget_tokens",
}
# `--block-budget none` clears the budget; None elsewhere in the table means "not given".
_CLEARED = "none"


def _args(args: argparse.Namespace | None, command: str) -> argparse.Namespace:
    """Defaults for programmatic calls such as ``cmd_auth_status()``."""
    if args is not None:
        return args
    if command == "recommend":
        raise UsageError("cmd_auth_recommend needs the file: cmd_auth_recommend(Namespace(file=..., json=False))")
    parser = argparse.ArgumentParser(prog="attune")
    register(parser.add_subparsers())
    return parser.parse_args(["auth", command])


# ---- attune auth setup ----------------------------------------------------------


def cmd_auth_setup(args: argparse.Namespace | None = None) -> int:
    from attune.models.strategy.backups import apply_setup

    args = _args(args, "setup")
    given = {
        field: getattr(args, dest) for dest, field in _SETUP_FIELDS.items() if getattr(args, dest, None) is not None
    }
    if given.get("subscription_block_budget_tokens") == _CLEARED:
        given["subscription_block_budget_tokens"] = None
    if not given:
        if not stdin_is_terminal():
            raise UsageError(
                "no terminal to ask on. Pass the choices as flags, e.g. "
                "`attune auth setup --tier pro --mode auto` (see `attune auth setup --help`)."
            )
        from attune.cli.wizard import SetupCancelled, run_interactive_setup
        from attune.models.strategy.model import AuthStrategy, StrategyFileError

        try:
            current = AuthStrategy.load()
        except StrategyFileError as exc:
            print(f"{exc.problem}: starting from the defaults; the old file will be kept aside.")
            current = AuthStrategy()
        try:
            run_interactive_setup(current)
        except SetupCancelled:
            raise CliError("setup cancelled; nothing was changed") from None
        return EXIT_OK
    try:
        result = apply_setup(given)
    except ValueError as exc:
        raise UsageError(f"invalid setting: {exc}") from None
    if args.json:
        print_json(result.to_dict())
        return EXIT_OK
    print(f"Saved to {result.path}")
    if result.backup:
        print(f"Previous strategy backed up to {result.backup}")
    if result.corrupt_moved_to:
        print(f"The unreadable previous file was kept as {result.corrupt_moved_to}")
    _print_strategy(result.current or {})
    return EXIT_OK


# ---- attune auth status ---------------------------------------------------------


def _print_strategy(data: dict[str, Any]) -> None:
    from attune.models.strategy.model import TIER_LABELS, SubscriptionTier

    tier = data["subscription_tier"]
    print(f"  subscription_tier        {tier} ({TIER_LABELS[SubscriptionTier(tier)]})")
    for key in (
        "default_mode",
        "small_module_threshold",
        "medium_module_threshold",
        "loc_to_tokens_multiplier",
        "subscription_block_budget_tokens",
        "setup_completed",
        "prefer_subscription",
        "cost_optimization",
        "metadata",
    ):
        print(f"  {key:<24} {data[key]}")


def cmd_auth_status(args: argparse.Namespace | None = None) -> int:
    args = _args(args, "status")
    from attune.models.strategy.model import strategy_status

    data = strategy_status()
    if args.json:
        print_json(data)
        return EXIT_OK
    where = "" if data["file_exists"] else " (not saved yet: defaults shown)"
    print(f"Strategy file: {data['path']}{where}")
    print(f"Setup complete: {'yes' if data['setup_completed'] else 'no — run `attune auth setup`'}")
    _print_strategy(data)
    print(
        f"Sizes: small < {data['small_module_threshold']} lines <= medium < "
        f"{data['medium_module_threshold']} lines <= large"
    )
    print(f"Tokens = lines of code x {data['loc_to_tokens_multiplier']}")
    return EXIT_OK


# ---- attune auth reset / restore ------------------------------------------------


def cmd_auth_reset(args: argparse.Namespace | None = None) -> int:
    from attune.models.strategy.backups import reset_strategy
    from attune.models.strategy.model import strategy_file_path

    args = _args(args, "reset")
    path = strategy_file_path()
    if not args.yes:
        if not stdin_is_terminal():
            raise UsageError(
                "refusing to reset without confirmation: no terminal to ask on. "
                "Pass --yes to reset (a backup is written first). Nothing was changed."
            )
        answer = input(f"Reset the strategy at {path}? A backup is written first. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing was changed.")
            return EXIT_OK
    result = reset_strategy(path)
    if args.json:
        print_json(result.to_dict())
        return EXIT_OK
    if result.backup:
        print(f"Backed up to {result.backup}")
    if result.corrupt_moved_to:
        print(f"The unreadable strategy file was kept as {result.corrupt_moved_to}")
    print(f"Strategy reset: {path} removed. Undo with `attune auth restore`.")
    return EXIT_OK


def cmd_auth_restore(args: argparse.Namespace | None = None) -> int:
    from attune.models.strategy.backups import list_backups, restore_strategy

    args = _args(args, "restore")
    if args.list:
        backups = list_backups()
        if args.json:
            print_json({"backups": [str(b) for b in backups]})
        elif not backups:
            print("No backups yet.")
        for backup in backups if not args.json else []:
            print(backup)
        return EXIT_OK
    try:
        result = restore_strategy(args.backup)
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print_json(result.to_dict())
        return EXIT_OK
    for skipped, problem in result.skipped_backups or ():
        print(f"Skipped {skipped.name}: {problem}")
    print(f"Restored the strategy at {result.path} from {result.restored_from}")
    if result.backup:
        print(f"The strategy it replaced was backed up to {result.backup}")
    _print_strategy(result.current or {})
    return EXIT_OK


# ---- attune auth recommend ------------------------------------------------------


def cmd_auth_recommend(args: argparse.Namespace | None = None) -> int:
    from attune.models.advice import GENERATED_CAUTION, load_context, report_for_loc
    from attune.models.errors import NotRegularFileError
    from attune.models.formatting import format_count, format_money
    from attune.models.loc.counter import analyze_file

    args = _args(args, "recommend")
    path = Path(args.file)
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if path.is_dir():
        raise UsageError(f"{path} is a directory; use `attune scan {path}` for a tree")
    context = load_context()
    warn_calibration(context.calibration_problem)
    strategy = context.strategy
    try:
        loc = analyze_file(path)
    except NotRegularFileError as exc:  # a FIFO or a device, like a directory: not a FILE
        raise UsageError(str(exc)) from None
    task = getattr(args, "task", "document")
    report = report_for_loc(path, loc, context, task)
    if args.json:
        print_json(report)
        return EXIT_OK
    print(report["path"])
    print(
        f"  Lines of code: {format_count(report['lines'])} ({report['category']}; "
        f"small < {strategy.small_module_threshold} <= medium < {strategy.medium_module_threshold} <= large)"
    )
    if task != "document":
        from attune.models.pricing.pipeline import get_task

        pipeline = get_task(task)
        print(f"  Task:          {task} — {pipeline.description}")
    print(f"  Recommended:   {report['mode']} — {report['reason']}")
    cost = format_money(report["monetary_cost"])
    also = "" if report["mode"] == "api" else f" (API would be ≈{format_money(report['api_cost'])})"
    print(f"  Estimate:      ≈{format_count(report['tokens'])} tokens ({report['tokens_basis']}), {cost}{also}")
    if not report["fits_in_context"]:
        print("  Warning:       the module does not fit in that mode's context window.")
    if report["generated"]:
        print(f"  Note:          {GENERATED_CAUTION}")
    return EXIT_OK


# ---- wiring ---------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    return value


def _budget(text: str) -> int | str:
    return _CLEARED if text.strip().lower() == _CLEARED else _positive_int(text)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    auth = subparsers.add_parser(
        "auth",
        help="set up, inspect, reset or restore the auth strategy",
        description="The strategy that decides subscription vs API per module.",
    )
    sub = auth.add_subparsers(dest="auth_command", metavar="COMMAND", required=True)

    setup = sub.add_parser(
        "setup",
        help="choose your plan and how Attune picks a mode",
        description="Interactive on a terminal; with flags, non-interactive. "
        "Fields you leave out keep their current values.",
    )
    setup.add_argument(
        "--tier",
        choices=["free", "pro", "max", "team", "enterprise", "api_only"],
        help="your Claude plan (api_only: no subscription)",
    )
    setup.add_argument("--mode", choices=["auto", "subscription", "api"], help="auto picks per module")
    setup.add_argument(
        "--prefer-subscription",
        dest="prefer_subscription",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="for medium and large modules under auto, use the subscription (default yes)",
    )
    setup.add_argument(
        "--small-threshold",
        type=_positive_int,
        metavar="LINES",
        help="modules below this many lines of code are small (default 500; 1 to 10,000,000)",
    )
    setup.add_argument(
        "--medium-threshold",
        type=_positive_int,
        metavar="LINES",
        help="modules below this many lines are medium, the rest large (default 2000; 1 to 10,000,000)",
    )
    setup.add_argument(
        "--multiplier",
        type=float,
        metavar="TOKENS",
        help="estimated tokens per line of code (default 4.0; 0.1 to 100)",
    )
    setup.add_argument(
        "--block-budget",
        type=_budget,
        metavar="TOKENS",
        help="the tokens your plan allows per 5-hour block, if you know them (`none` clears it); over 90%% "
        "used, auto sends medium and large modules to the API",
    )
    setup.add_argument("--json", action="store_true", help="print the result as JSON")
    setup.set_defaults(func=cmd_auth_setup)

    status = sub.add_parser("status", help="show the saved strategy and where it lives")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_auth_status)

    reset = sub.add_parser(
        "reset",
        help="back up, then clear the strategy",
        description="Writes to_dict() to backups/ first, then removes the strategy file.",
    )
    reset.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    reset.add_argument("--json", action="store_true")
    reset.set_defaults(func=cmd_auth_reset)

    restore = sub.add_parser("restore", help="bring back a backup (the newest by default)")
    restore.add_argument("backup", nargs="?", help="a backup file (path or name from --list)")
    restore.add_argument("--list", action="store_true", help="list backups, newest first")
    restore.add_argument("--json", action="store_true")
    restore.set_defaults(func=cmd_auth_restore)

    recommend = sub.add_parser("recommend", help="size, mode, reason and cost for one file")
    recommend.add_argument("file")
    add_task_option(recommend, help="the task to price")
    recommend.add_argument("--json", action="store_true")
    recommend.set_defaults(func=cmd_auth_recommend)
