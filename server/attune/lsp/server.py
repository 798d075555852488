"""The Attune language server (pygls 2): the server object, its lifecycle, documents
and code lenses, strategy and calibration watching, the ``attune/breakerStatus``,
``attune/usage``, ``attune/apiSpend`` and ``attune/workspaceChanged`` notifications and the
``attune/workspaceSummary`` request (``overview_view``). The
``attune.server.*`` commands register themselves on it in ``commands``.

Import cost matters (spawn -> initialize is benchmarked against a bare pygls
server), so ``attune.models``, pydantic and anthropic are imported only when a
handler first needs them, and the watchers start after ``initialized``.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
import threading
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method

from attune.models.version import FALLBACK_VERSION

from .protocol import WORKSPACE_SUMMARY

if TYPE_CHECKING:  # imported lazily at run time (see the module docstring)
    from .documents import DocumentAnalyses
    from .overview_view import WorkspaceChanges
    from .runs_view import LastRuns
    from .settings import Settings
    from .spend_view import SpendWatcher
    from .usage_view import UsageWatcher
    from .watchers import BreakerWatcher, ReportOnce, StrategyWatcher

logger = logging.getLogger(__name__)

# serverInfo.version: the constant attune_version() falls back to (a test keeps it equal
# to the distribution's version), so importlib.metadata (~15 ms) stays off the start-up path
__version__ = FALLBACK_VERSION


# The request id and workDoneToken of the workspace/executeCommand being handled, seen
# by the command's task (which copies the context it was created in).
current_command: contextvars.ContextVar[tuple[Any, Any]] = contextvars.ContextVar(
    "attune_current_command", default=(None, None)
)


class AttuneProtocol(LanguageServerProtocol):
    """pygls's protocol, with open documents kept as lines (``text_documents``), so
    typing in a large file costs the size of each edit, not of the file.

    A command that runs long (``runTask``) registers an event in ``cancel_events``
    under its request id: ``$/cancelRequest`` sets it (pygls alone would answer
    "cancelled" while the command's task went on)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cancel_events: dict[Any, asyncio.Event] = {}

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(self, params: types.ExecuteCommandParams) -> Generator[Any, Any, Any]:
        current_command.set((self._ctx_msg_id.get(), params.work_done_token))
        return (yield from super().lsp_workspace__execute_command(params))

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        event = self.cancel_events.get(msg_id)
        if event is not None:
            event.set()
        super()._handle_cancel_notification(msg_id)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, types.InitializeResult]:
        result = yield from super().lsp_initialize(params)
        from .text_documents import LineWorkspace

        made = self.workspace  # pygls's, made for this client; no document is open yet
        self._workspace = LineWorkspace(
            made.root_uri, types.TextDocumentSyncKind.Incremental, list(made.folders.values()), made.position_encoding
        )
        return result


class AttuneServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "attune-lsp",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=AttuneProtocol,
        )
        self._raw_settings: Any = None  # as the client sent them; parsed on first use
        self._settings: Settings | None = None
        self._strategy_watcher: StrategyWatcher | None = None
        self._breaker_watcher: BreakerWatcher | None = None
        self._usage_watcher: UsageWatcher | None = None
        self._can_run: bool | None = None
        self._block_nearly_used = False
        self._analyses: DocumentAnalyses | None = None
        self._reports: ReportOnce | None = None
        self._last_runs: LastRuns | None = None
        self._workspace_changes: WorkspaceChanges | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._shown_problems: set[str] = set()
        self.exit_status = 0

    # ---- lazily built parts ---------------------------------------------------

    @property
    def reports(self) -> ReportOnce:
        if self._reports is None:
            from .watchers import ReportOnce

            self._reports = ReportOnce()
        return self._reports

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from .settings import parse_settings

            self._settings = parse_settings(self._raw_settings)
        return self._settings

    def update_settings(self, raw: Any) -> None:
        before = self._settings
        self._raw_settings, self._settings = raw, None
        after = self.settings
        if before is not None and before.lens.max_bytes != after.lens.max_bytes:
            self.analyses.clear()
        if before != after:
            logger.info("Settings: %s", after.model_dump())
            self.request_lens_refresh()

    @property
    def strategy_watcher(self) -> StrategyWatcher:
        if self._strategy_watcher is None:
            from .watchers import StrategyWatcher

            self._strategy_watcher = StrategyWatcher(self._strategy_changed, self.reports)
            self._strategy_watcher.check()
        return self._strategy_watcher

    @property
    def breaker_watcher(self) -> BreakerWatcher:
        if self._breaker_watcher is None:
            from .protocol import BREAKER_STATUS_NOTIFICATION
            from .watchers import BreakerWatcher

            self._breaker_watcher = BreakerWatcher(
                lambda payload: self.protocol.notify(BREAKER_STATUS_NOTIFICATION, payload), self.reports
            )
        return self._breaker_watcher

    @property
    def usage_watcher(self) -> UsageWatcher:
        if self._usage_watcher is None:
            from .protocol import USAGE_NOTIFICATION
            from .usage_view import UsageWatcher

            self._usage_watcher = UsageWatcher(
                lambda payload: self.protocol.notify(USAGE_NOTIFICATION, payload),
                self._block_changed,
                self._block_budget,
                self.reports,
            )
        return self._usage_watcher

    def _spend_watcher(self) -> SpendWatcher:
        from .protocol import API_SPEND_NOTIFICATION
        from .spend_view import SpendWatcher

        return SpendWatcher(lambda payload: self.protocol.notify(API_SPEND_NOTIFICATION, payload), self.reports)

    def _block_budget(self) -> int | None:
        strategy = self.strategy_watcher.strategy
        return strategy.subscription_block_budget_tokens if strategy is not None else None

    def _block_changed(self, block: Any) -> None:
        # The block changes a recommendation only while it is nearly used (the reason
        # then quotes its share and time left) or when it stops being so.
        strategy = self.strategy_watcher.strategy
        nearly_used = strategy is not None and strategy.block_nearly_used(block)
        if nearly_used or self._block_nearly_used:
            self.request_lens_refresh()
        self._block_nearly_used = nearly_used

    def can_run_tasks(self) -> bool:
        """A task can run here: an API key in the environment, or Claude Code on PATH
        (looked up once: the editor restarts the server when the key changes)."""
        if self._can_run is None:
            import os
            import shutil

            self._can_run = bool(os.environ.get("ANTHROPIC_API_KEY")) or shutil.which("claude") is not None
        return self._can_run

    def estimate_context(self) -> Any:
        """The core's EstimateContext for the lenses and commands: the watched
        strategy and calibration, and the subscription's current block. None while
        the strategy file is unusable."""
        from attune.models.advice import EstimateContext

        watcher = self.strategy_watcher
        if watcher.strategy is None:
            return None
        block = self._usage_watcher.block if self._usage_watcher is not None else None
        return EstimateContext(watcher.strategy, watcher.calibration, watcher.calibration_problem, block)

    @property
    def analyses(self) -> DocumentAnalyses:
        if self._analyses is None:
            from .documents import DocumentAnalyses

            self._analyses = DocumentAnalyses(lambda: self.workspace, lambda: self.settings.lens.max_bytes)
        return self._analyses

    @property
    def last_runs(self) -> LastRuns:
        if self._last_runs is None:
            from .runs_view import LastRuns

            self._last_runs = LastRuns()
        return self._last_runs

    @property
    def workspace_changes(self) -> WorkspaceChanges:
        if self._workspace_changes is None:
            from .overview_view import WorkspaceChanges
            from .protocol import WORKSPACE_CHANGED_NOTIFICATION

            self._workspace_changes = WorkspaceChanges(
                lambda payload: self.protocol.notify(WORKSPACE_CHANGED_NOTIFICATION, payload), lambda: self.workspace
            )
        return self._workspace_changes

    # ---- client interaction ---------------------------------------------------

    def _client_can_refresh_lenses(self) -> bool:
        try:
            ws = self.client_capabilities.workspace
            return bool(ws and ws.code_lens and ws.code_lens.refresh_support)
        except AttributeError:  # before initialize
            return False

    def client_can_pull_configuration(self) -> bool:
        try:
            return bool(self.client_capabilities.workspace and self.client_capabilities.workspace.configuration)
        except AttributeError:
            return False

    def request_lens_refresh(self) -> None:
        if self._client_can_refresh_lenses():
            self.workspace_code_lens_refresh(None)

    def show_info(self, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=message))

    def _strategy_changed(self, initial: bool) -> None:
        problem = self.strategy_watcher.problem
        if problem is not None and problem not in self._shown_problems:
            # one pop-up per distinct problem; the lenses keep saying it
            self._shown_problems.add(problem)
            self.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning,
                    message=f"Attune: strategy file invalid — {problem}. Run `attune auth reset` or fix "
                    f"{self.strategy_watcher.path}.",
                )
            )
        if not initial:  # at start no lens has been shown yet
            self.request_lens_refresh()
            self.workspace_changes.changed("strategy")

    def report_server_error(self, error: Exception, source: Any) -> None:
        # Request errors already reach the client as the response; anything else is
        # logged once per distinct message instead of a pop-up storm.
        from pygls.exceptions import FeatureRequestError

        if source is FeatureRequestError:
            return
        self.reports.failed(f"server error: {error}", f"Server error: {error}")

    def start_background(self) -> None:
        _ = self.strategy_watcher  # load now, so the first lens request finds it
        self._tasks.append(asyncio.ensure_future(self.strategy_watcher.run()))
        self._tasks.append(asyncio.ensure_future(self.breaker_watcher.run()))
        self._tasks.append(asyncio.ensure_future(self.usage_watcher.run()))
        self._tasks.append(asyncio.ensure_future(self._spend_watcher().run()))
        self._tasks.append(asyncio.ensure_future(self.last_runs.watch(self.request_lens_refresh, self.reports)))

    def stop_background(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        if self._usage_watcher is not None:
            self._usage_watcher.close()

    # ---- the connection -------------------------------------------------------

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """pygls's stdio server with the reader of ``framing``, which resumes after a
        broken header instead of going deaf; ``exit_status`` is 1 when it gave up."""
        from .framing import ClientWriter, StdinReader, read_messages

        self._stop_event = stop_event = threading.Event()
        self.protocol.set_writer(ClientWriter(stdout or sys.stdout.buffer, stop_event))
        reader = StdinReader(stdin or sys.stdin.buffer, self.thread_pool)
        try:
            if asyncio.run(read_messages(stop_event, reader, self.protocol, self.report_server_error)):
                self.exit_status = 1
        except BrokenPipeError:
            logger.error("Connection to the client is lost! Shutting down the server.")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]  # pygls leaves it unannotated


server = AttuneServer()


# ---- lifecycle ------------------------------------------------------------------


@server.feature(types.INITIALIZE)
def _initialize(ls: AttuneServer, params: types.InitializeParams) -> None:
    ls._raw_settings = params.initialization_options  # parsed (with pydantic) after the reply


@server.feature(types.INITIALIZED)
def _initialized(ls: AttuneServer, params: types.InitializedParams) -> None:
    _ = ls.settings  # validate now: a bad setting is logged at start, not at the first lens
    ls.start_background()


@server.feature(types.SHUTDOWN)
def _shutdown(ls: AttuneServer, params: Any) -> None:
    ls.stop_background()


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def _did_change_configuration(ls: AttuneServer, params: types.DidChangeConfigurationParams) -> None:
    raw = params.settings
    if not raw and ls.client_can_pull_configuration():
        # the pull model (newer vscode-languageclient): the notification only says "changed"
        answer = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="attune")])
        )
        raw = answer[0] if answer else None
    ls.update_settings(raw)


# ---- documents ------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _did_open(ls: AttuneServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.analyses.changed(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def _did_change(ls: AttuneServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.analyses.changed(params.text_document.uri, ls.settings.lens.debounceMs / 1000)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _did_save(ls: AttuneServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.analyses.saved(params.text_document.uri)
    ls.workspace_changes.saved(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _did_close(ls: AttuneServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.analyses.closed(params.text_document.uri)


@server.feature(WORKSPACE_SUMMARY)
async def _workspace_summary(ls: AttuneServer, params: Any) -> dict[str, Any]:
    from .overview_view import workspace_summary

    return await workspace_summary(ls, params)


@server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
async def _code_lens(ls: AttuneServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    from .analysis import InvalidUri, uri_path
    from .lenses import RUN_LENS, Lens, lens_texts, make_lenses

    uri = params.text_document.uri
    try:
        uri_path(uri)
    except InvalidUri as exc:
        raise JsonRpcInvalidParams(f"{types.TEXT_DOCUMENT_CODE_LENS}: textDocument.uri: {exc}") from None
    if not ls.settings.lens.enabled:
        return []
    watcher = ls.strategy_watcher
    analysis = await ls.analyses.get(uri)
    lenses = lens_texts(
        analysis, ls.estimate_context(), watcher.problem, ls.settings.lens, ls.analyses.exact_for(analysis)
    )
    path = uri_path(uri)
    if path is not None and analysis.analysed and watcher.problem is None:
        if "cost" in ls.settings.lens.show:
            last = await ls.last_runs.text_for(path)
            if last is not None:
                lenses.append(Lens(*last))
        if ls.can_run_tasks():
            lenses.append(RUN_LENS)
    return make_lenses(uri, lenses)
