"""The ``attune.server.*`` commands, each registered on the server where it is defined.

Everything is answered by the core; this module only translates: arguments are
validated by ``arguments``, a user-facing failure (no API key, no backup, an invalid
strategy file) raises ``RequestFailed`` with the message to show. Importing this
module registers the commands; ``attune.lsp.__main__`` does it before the server
starts. Heavy modules (pydantic, the core) load with the first command.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from . import protocol
from .breaker_view import breaker_payload
from .protocol import RequestFailed
from .server import AttuneServer, server

logger = logging.getLogger(__name__)


# ---- strategy -----------------------------------------------------------------


@server.command(protocol.SETUP_AUTH)
def setup_auth(ls: AttuneServer, *arguments: Any) -> dict[str, Any]:
    from attune.models.strategy.backups import apply_setup

    from .arguments import SetupArgs, parse_args

    args = parse_args(protocol.SETUP_AUTH, SetupArgs, arguments)
    given = args.model_dump(mode="json", exclude_none=True)
    given["subscription_tier"] = given.pop("tier")
    given["default_mode"] = given.pop("mode")
    try:
        result = apply_setup(given)  # a corrupt current file is kept aside, never deleted
    except ValueError as exc:
        raise JsonRpcInvalidParams(f"{protocol.SETUP_AUTH}: invalid setting: {exc}") from None
    logger.info("Strategy saved to %s (previous backed up to %s)", result.path, result.backup)
    ls.strategy_watcher.check()  # refresh now rather than at the next poll
    return result.current or {}


@server.command(protocol.RESET_AUTH)
def reset_auth(ls: AttuneServer, *arguments: Any) -> dict[str, Any]:
    from attune.models.strategy.backups import reset_strategy

    from .arguments import ResetArgs, parse_args

    args = parse_args(protocol.RESET_AUTH, ResetArgs, arguments)
    if not args.confirm:
        raise JsonRpcInvalidParams(f'{protocol.RESET_AUTH}: refusing without {{"confirm": true}}; nothing was changed')
    result = reset_strategy()
    logger.info("Strategy reset; previous backed up to %s", result.backup)
    ls.strategy_watcher.check()
    return result.to_dict()


@server.command(protocol.RESTORE_AUTH)
async def restore_auth(ls: AttuneServer, *arguments: Any) -> dict[str, Any]:
    """The backup is a path the user names: it is read in a worker thread, so a slow
    file system or a wait for the strategy lock never holds up the other requests."""
    from attune.models.strategy.backups import restore_strategy
    from attune.models.strategy.model import StrategyFileError

    from .arguments import RestoreArgs, parse_args

    args = parse_args(protocol.RESTORE_AUTH, RestoreArgs, arguments)
    try:
        result = await asyncio.to_thread(restore_strategy, args.backup)
    except (OSError, StrategyFileError) as exc:  # missing, not a regular file, unreadable, invalid
        raise RequestFailed(f"{protocol.RESTORE_AUTH}: {exc}") from None
    ls.strategy_watcher.check()
    return result.to_dict()


@server.command(protocol.AUTH_STATUS)
def auth_status(ls: AttuneServer, *arguments: Any) -> dict[str, Any]:
    from attune.models.strategy.model import StrategyFileError, strategy_status

    from .arguments import NoArgs, parse_args

    parse_args(protocol.AUTH_STATUS, NoArgs, arguments)
    try:
        return strategy_status()
    except StrategyFileError as exc:
        raise RequestFailed(f"{protocol.AUTH_STATUS}: {exc}") from None


# ---- per document -------------------------------------------------------------


def _context_or_fail(ls: AttuneServer, command: str) -> Any:
    """The EstimateContext (strategy, calibration, subscription block), or
    RequestFailed while the strategy file is unusable."""
    watcher = ls.strategy_watcher
    watcher.check()  # a command may run before the next poll tick
    if watcher.problem is not None:
        raise RequestFailed(
            f"{command}: strategy file invalid — {watcher.problem}; run `attune auth reset` or fix the file"
        )
    return ls.estimate_context()


async def _analysed(ls: AttuneServer, command: str, uri: str) -> Any:
    analysis = await ls.analyses.get(uri)
    if not analysis.analysed:
        raise RequestFailed(f"{command}: {uri} not analysed — {analysis.problem}")
    return analysis


@server.command(protocol.RECOMMEND)
async def recommend(ls: AttuneServer, *arguments: Any) -> dict[str, Any]:
    from attune.models.advice import report_for_loc

    from .arguments import UriArgs, parse_args

    args = parse_args(protocol.RECOMMEND, UriArgs, arguments)
    context = _context_or_fail(ls, protocol.RECOMMEND)
    analysis = await _analysed(ls, protocol.RECOMMEND, args.uri)
    return report_for_loc(analysis.path, analysis.loc, context)


def _what_if(strategy: Any, args: Any) -> tuple[Any, dict[str, str]]:
    """The strategy with the given tier/mode replaced (in memory only) and what was replaced."""
    from attune.models.strategy.model import AuthStrategy

    overrides = {
        field: value.value
        for field, value in (("subscription_tier", args.tier), ("default_mode", args.mode))
        if value is not None
    }
    if not overrides:
        return strategy, {}
    try:
        return AuthStrategy.from_dict({**strategy.to_dict(), **overrides}), overrides
    except ValueError as exc:
        raise JsonRpcInvalidParams(f"{protocol.SHOW_DETAILS}: invalid setting: {exc}") from None


@server.command(protocol.SHOW_DETAILS)
async def show_details(ls: AttuneServer, *arguments: Any) -> dict[str, Any]:
    import dataclasses

    from attune.models.advice import GENERATED_CAUTION, report_for_loc
    from attune.models.pricing.pipeline import pipeline_description

    from .arguments import ShowDetailsArgs, parse_args

    args = parse_args(protocol.SHOW_DETAILS, ShowDetailsArgs, arguments)
    context = _context_or_fail(ls, protocol.SHOW_DETAILS)
    strategy, what_if = _what_if(context.strategy, args)
    context = dataclasses.replace(context, strategy=strategy)
    analysis = await _analysed(ls, protocol.SHOW_DETAILS, args.uri)
    lines = analysis.loc.code_lines
    exact = ls.analyses.exact_for(analysis)
    details = {
        "uri": args.uri,
        "report": report_for_loc(analysis.path, analysis.loc, context),
        "calibration_problem": context.calibration_problem,
        "pros_cons": strategy.get_pros_cons(lines),
        "formula": pipeline_description(),
        "thresholds": {
            "small_module_threshold": strategy.small_module_threshold,
            "medium_module_threshold": strategy.medium_module_threshold,
            "loc_to_tokens_multiplier": strategy.loc_to_tokens_multiplier,
        },
        "exact_tokens": exact,
        "caution": GENERATED_CAUTION if analysis.loc.generated else None,
        "what_if": what_if or None,
    }
    if ls.settings.details.showMessage:
        report = details["report"]
        unsaved = f" (if {', '.join(f'{k} = {v}' for k, v in what_if.items())}; not saved)" if what_if else ""
        ls.show_info(
            f"Attune: {report['category']} module, {lines:,} lines of code → "
            f"{report['mode']}{unsaved}. {report['reason']}"
        )
    return details


@server.command(protocol.COUNT_TOKENS)
async def count_tokens(ls: AttuneServer, *arguments: Any) -> dict[str, Any]:
    """The exact count of the document's current text through the shared breaker.
    The key and base URL come from the server's environment only."""
    from .arguments import UriArgs, parse_args

    args = parse_args(protocol.COUNT_TOKENS, UriArgs, arguments)
    analysis = await ls.analyses.get(args.uri)
    text = ls.analyses.text_of(args.uri)
    if text is None:
        if not analysis.analysed:
            raise RequestFailed(f"{protocol.COUNT_TOKENS}: {args.uri} not analysed — {analysis.problem}")
        text = await asyncio.to_thread(_read_text, analysis.path, ls.settings.lens.max_bytes)
    from attune.models.llm.errors import ProviderError
    from attune.models.llm.executor import acount_tokens

    try:
        tokens = await acount_tokens(text)
    except ProviderError as exc:
        raise RequestFailed(f"{protocol.COUNT_TOKENS}: {exc}") from None
    ls.analyses.exact_tokens[args.uri] = (ls.analyses.content_key(analysis), tokens)
    ls.request_lens_refresh()
    return {"uri": args.uri, "tokens": tokens, "exact": True}


def _read_text(path: str, max_bytes: int) -> str:
    """The text of a file the editor has not opened, read by the core (a regular file
    under the size limit only); RequestFailed when it cannot be read any more."""
    from attune.models.loc.counter import LocError, read_source

    try:
        return read_source(path, max_bytes)[0]
    except (OSError, LocError) as exc:
        raise RequestFailed(f"{protocol.COUNT_TOKENS}: {path} not read — {exc}") from None


# ---- breaker ------------------------------------------------------------------


async def _breaker_status(ls: AttuneServer) -> dict[str, Any]:
    breaker = await asyncio.to_thread(ls.breaker_watcher.breaker)
    return breaker_payload(await asyncio.to_thread(breaker.get_status), full=True)


@server.command(protocol.BREAKER_STATUS)
async def breaker_status(ls: AttuneServer, *arguments: Any) -> dict[str, Any]:
    from .arguments import NoArgs, parse_args

    parse_args(protocol.BREAKER_STATUS, NoArgs, arguments)
    return await _breaker_status(ls)


@server.command(protocol.RESET_BREAKER)
async def reset_breaker(ls: AttuneServer, *arguments: Any) -> dict[str, Any]:
    from .arguments import ResetBreakerArgs, parse_args

    args = parse_args(protocol.RESET_BREAKER, ResetBreakerArgs, arguments)
    breaker = await asyncio.to_thread(ls.breaker_watcher.breaker)
    reset = await asyncio.to_thread(breaker.reset, args.provider, args.tier)
    await ls.breaker_watcher.check()  # tell the client now, not at the next tick
    return {"reset": list(reset or []), **(await _breaker_status(ls))}


# ---- running tasks ------------------------------------------------------------


def _run_path(command: str, uri: str) -> str:
    from .analysis import uri_path

    path = uri_path(uri)
    if path is None:
        raise RequestFailed(f"{command}: {uri} is not a file on disk; save it first (a run reads the saved file)")
    return path


async def _plan(ls: AttuneServer, command: str, args: Any) -> Any:
    """The run plan (nothing sent): the saved file, the strategy, the task's stages priced."""
    from attune.models.errors import AttuneError
    from attune.models.runs import plan_run

    context = _context_or_fail(ls, command)
    path = _run_path(command, args.uri)
    mode = getattr(args, "mode", None)
    try:
        return await asyncio.to_thread(
            plan_run, args.task, path, mode=None if mode is None else mode.value, context=context
        )
    except (OSError, ValueError, AttuneError) as exc:  # unknown task, unreadable file, no subscription
        raise RequestFailed(f"{command}: {exc}") from None


def _preview(ls: AttuneServer, plan: Any) -> dict[str, Any]:
    """The plan, the task's description, and the modes the plan offers (an editor
    offers to run on the other one only where the plan has it)."""
    preview: dict[str, Any] = plan.to_dict()
    preview["description"] = plan.task.description
    strategy = ls.strategy_watcher.strategy
    preview["offered_modes"] = [mode.value for mode in strategy.offered_modes] if strategy is not None else [plan.mode]
    preview["sends_nothing"] = True
    return preview


@server.command(protocol.PREVIEW_TASK)
async def preview_task(ls: AttuneServer, *arguments: Any) -> dict[str, Any]:
    from .arguments import PreviewTaskArgs, parse_args

    args = parse_args(protocol.PREVIEW_TASK, PreviewTaskArgs, arguments)
    return _preview(ls, await _plan(ls, protocol.PREVIEW_TASK, args))


class _RunProgress:
    """Standard work-done progress for one run: begin, a report per stage start and
    end (stage, model, tokens so far), end. Cancelling the token sets ``cancel``."""

    def __init__(self, ls: AttuneServer, token: Any, cancel: asyncio.Event) -> None:
        self.ls = ls
        self.token = token
        if token is not None:
            future = ls.work_done_progress.tokens.get(token)
            if future is None:
                from concurrent.futures import Future

                future = ls.work_done_progress.tokens[token] = Future()
            future.add_done_callback(lambda _f: cancel.set())

    def begin(self, title: str, message: str) -> None:
        from lsprotocol import types

        if self.token is not None:
            self.ls.work_done_progress.begin(
                self.token, types.WorkDoneProgressBegin(title=title, message=message, cancellable=True, percentage=0)
            )

    def __call__(self, event: Any) -> None:
        from lsprotocol import types

        if self.token is None:
            return
        done = event.index + (1 if event.event == "end" else 0)
        verb = "running" if event.event == "start" else (event.status or "done")
        message = (
            f"[{event.index + 1}/{event.count}] {event.stage} · {event.model} · {verb} · "
            f"{event.tokens_so_far:,} tokens so far"
        )
        self.ls.work_done_progress.report(
            self.token,
            types.WorkDoneProgressReport(message=message, percentage=int(100 * done / event.count), cancellable=True),
        )

    def end(self, message: str) -> None:
        from lsprotocol import types

        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self.ls.work_done_progress.tokens.pop(self.token, None)


def _client_creates_progress(ls: AttuneServer) -> bool:
    try:
        window = ls.client_capabilities.window
        return bool(window and window.work_done_progress)
    except AttributeError:
        return False


@server.command(protocol.RUN_TASK)
async def run_task(ls: AttuneServer, *arguments: Any) -> dict[str, Any]:
    """Runs on the event loop (the SDK and Claude Code are asynchronous; the file is
    read and the SDK imported in worker threads), so other requests keep answering.
    Cancelled by the progress token or ``$/cancelRequest``: the run ends ``cancelled``
    with its finished stages kept."""
    import uuid

    from .arguments import RunTaskArgs, parse_args
    from .server import current_command

    msg_id, token = current_command.get()
    args = parse_args(protocol.RUN_TASK, RunTaskArgs, arguments)
    cancel = asyncio.Event()
    events = _cancel_events(ls)
    if msg_id is not None:
        events[msg_id] = cancel  # from here on $/cancelRequest reaches the run
    try:
        plan = await _plan(ls, protocol.RUN_TASK, args)
        if not args.confirm:
            return {"confirmed": False, "preview": _preview(ls, plan)}

        from attune.models.runs import RunError, execute_plan

        if plan.mode == "api":
            await asyncio.to_thread(__import__, "anthropic")  # ~1 s the first time: off the loop
        if token is None and _client_creates_progress(ls):
            token = f"attune-run-{uuid.uuid4().hex}"
            try:
                await ls.work_done_progress.create_async(token)
            except Exception as exc:  # the client refused: run without progress
                logger.info("workDoneProgress/create refused (%s); running without progress", exc)
                token = None
        if cancel.is_set():  # cancelled before anything was recorded or sent
            raise RequestFailed(f"{protocol.RUN_TASK}: cancelled before the run started; nothing was sent")
        progress = _RunProgress(ls, token, cancel)
        where = "the API" if plan.mode == "api" else "the subscription"
        progress.begin(f"Attune: {plan.task.name}", f"{plan.path.name} on {where}")
        try:
            result = await execute_plan(plan, on_progress=progress, cancel=cancel)
        except RunError as exc:
            progress.end(f"not started: {exc}")
            raise RequestFailed(f"{protocol.RUN_TASK}: {exc}") from None
        except BaseException:
            progress.end("cancelled")
            ls.last_runs.changed()
            raise
        progress.end(f"{result.status}: {len(result.stages)} stages, {result.tokens:,} tokens, ${result.cost:.4f}")
        ls.last_runs.changed()
        ls.request_lens_refresh()
    finally:
        if msg_id is not None:
            events.pop(msg_id, None)
    record: dict[str, Any] = result.to_dict()
    if result.run_id is not None:
        stored = await asyncio.to_thread(_stored_run, result.run_id)
        if stored is not None:
            record["record"] = stored
    return record


def _stored_run(run_id: str) -> dict[str, Any] | None:
    from attune.models.telemetry.store import get_telemetry_store

    try:
        run = get_telemetry_store(read_only=True).get_run(run_id)
    except Exception as exc:
        logger.warning("run %s not read back (%s: %s)", run_id, type(exc).__name__, exc)
        return None
    return None if run is None else run.to_dict()


def _cancel_events(ls: AttuneServer) -> dict[Any, asyncio.Event]:
    from .server import AttuneProtocol

    protocol_ = ls.protocol
    assert isinstance(protocol_, AttuneProtocol)
    return protocol_.cancel_events
