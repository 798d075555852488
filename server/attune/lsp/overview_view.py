"""The workspace overview: the ``attune/workspaceSummary`` request and the
``attune/workspaceChanged`` notification.

The summary (``attune.models.overview.workspace_summary``) runs in a worker thread,
so lens requests keep being answered while a large tree is counted; it reports
work-done progress ("1,234/2,000 files") on the client's ``workDoneToken`` and stops
when the request is cancelled (``$/cancelRequest``) or its progress is.
``attune/workspaceChanged`` tells the client to ask again: after a file in the
workspace is saved, or the strategy or calibration changed, debounced so a burst of
saves is one notification. The count cache makes the new summary cheap.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams, JsonRpcRequestCancelled

from .analysis import InvalidUri, uri_path
from .protocol import WORKSPACE_SUMMARY, RequestFailed

logger = logging.getLogger(__name__)

CHANGE_DEBOUNCE_SECONDS = 0.3


def _param(params: Any, name: str) -> Any:
    """One field of the request's params (a dict, pygls's namedtuple, or None)."""
    if params is None:
        return None
    if isinstance(params, dict):
        return params.get(name)
    return getattr(params, name, None)


def _folder_paths(workspace: Any) -> list[str]:
    """The file system paths of the workspace folders (else of the root), in order."""
    uris = [folder.uri for folder in workspace.folders.values()] or [workspace.root_uri]
    paths = []
    for uri in uris:
        try:
            path = uri_path(uri) if uri else None
        except InvalidUri:
            continue
        if path is not None:
            paths.append(path)
    return paths


def _summary_root(ls: Any, folder: Any) -> str:
    import os

    if folder is None:
        paths = _folder_paths(ls.workspace)
        if not paths:
            raise RequestFailed(f"{WORKSPACE_SUMMARY}: no workspace folder is open; give one in 'folder'")
        return paths[0]
    if not isinstance(folder, str):
        raise JsonRpcInvalidParams(f"{WORKSPACE_SUMMARY}: folder must be a file: URI, got {folder!r}")
    try:
        path = uri_path(folder)
    except InvalidUri as exc:
        raise JsonRpcInvalidParams(f"{WORKSPACE_SUMMARY}: folder: {exc}") from None
    if path is None:
        raise JsonRpcInvalidParams(f"{WORKSPACE_SUMMARY}: folder must be a file: URI, got {folder!r}")
    if not os.path.isdir(path):
        raise RequestFailed(f"{WORKSPACE_SUMMARY}: {path}: no such folder")
    return path


class _Progress:
    """Work-done progress on the client's token, sent from the event loop whatever
    thread reports; the token's cancellation sets ``cancel``."""

    def __init__(self, ls: Any, token: Any, cancel: threading.Event) -> None:
        self.ls = ls
        self.token = token
        self.loop = asyncio.get_running_loop()
        if token is not None:
            from concurrent.futures import Future

            future = ls.work_done_progress.tokens.setdefault(token, Future())
            future.add_done_callback(lambda _f: cancel.set())

    def begin(self, message: str) -> None:
        from lsprotocol import types

        if self.token is not None:
            value = types.WorkDoneProgressBegin(
                title="Attune: workspace overview", message=message, cancellable=True, percentage=0
            )
            self.ls.work_done_progress.begin(self.token, value)

    def counted(self, done: int, total: int) -> None:
        """Called by the summary's thread."""
        from lsprotocol import types

        if self.token is None:
            return
        value = types.WorkDoneProgressReport(
            message=f"{done:,}/{total:,} files", percentage=int(100 * done / total) if total else 100
        )
        self.loop.call_soon_threadsafe(self.ls.work_done_progress.report, self.token, value)

    def end(self, message: str) -> None:
        from lsprotocol import types

        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self.ls.work_done_progress.tokens.pop(self.token, None)


async def workspace_summary(ls: Any, params: Any) -> dict[str, Any]:
    """The answer to ``attune/workspaceSummary`` ``{task?, folder?}`` (default: the
    default task, the first workspace folder)."""
    from attune.models.overview import SummaryCancelled
    from attune.models.overview import workspace_summary as summarise
    from attune.models.pricing.pipeline import DEFAULT_TASK, task_names

    task = _param(params, "task") or DEFAULT_TASK
    if not isinstance(task, str) or task not in task_names():
        raise JsonRpcInvalidParams(
            f"{WORKSPACE_SUMMARY}: unknown task {task!r}; the tasks are: {', '.join(task_names())}"
        )
    root = _summary_root(ls, _param(params, "folder"))
    watcher = ls.strategy_watcher
    watcher.check()  # a request may come before the next poll tick
    if watcher.problem is not None:
        raise RequestFailed(
            f"{WORKSPACE_SUMMARY}: strategy file invalid — {watcher.problem}; run `attune auth reset` or fix the file"
        )
    context = ls.estimate_context()
    cancel = threading.Event()
    progress = _Progress(ls, _param(params, "workDoneToken"), cancel)
    progress.begin(root)
    try:
        summary = await asyncio.to_thread(
            summarise, root, context=context, task=task, progress=progress.counted, cancel=cancel
        )
    except SummaryCancelled:
        progress.end("cancelled")
        raise JsonRpcRequestCancelled(f"{WORKSPACE_SUMMARY}: cancelled") from None
    except asyncio.CancelledError:  # $/cancelRequest: the thread stops at its next file
        cancel.set()
        progress.end("cancelled")
        raise
    except OSError as exc:
        progress.end(f"failed: {exc}")
        raise RequestFailed(f"{WORKSPACE_SUMMARY}: {exc}") from None
    progress.end(f"{len(summary['files']):,} files")
    return summary


class WorkspaceChanges:
    """Sends ``attune/workspaceChanged`` ``{reasons}`` once changes stop coming for
    ``CHANGE_DEBOUNCE_SECONDS`` (reasons: ``save``, ``strategy``). Called on the event loop."""

    def __init__(self, send: Callable[[dict[str, Any]], None], workspace: Callable[[], Any]) -> None:
        self._send = send
        self._workspace = workspace
        self._reasons: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None

    def saved(self, uri: str) -> None:
        """A document was saved: a change when it lies in a workspace folder."""
        import os

        try:
            path = uri_path(uri)
        except InvalidUri:
            return
        if path is None:
            return
        path = os.path.realpath(path)
        for folder in _folder_paths(self._workspace()):
            folder = os.path.realpath(folder)
            if path == folder or path.startswith(folder.rstrip(os.sep) + os.sep):
                self.changed("save")
                return

    def changed(self, reason: str) -> None:
        self._reasons.add(reason)
        if self._timer is not None:
            self._timer.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop runs here: nothing to debounce with, send now
            self._fire()
            return
        self._timer = loop.call_later(CHANGE_DEBOUNCE_SECONDS, self._fire)

    def _fire(self) -> None:
        reasons, self._reasons, self._timer = sorted(self._reasons), set(), None
        self._send({"reasons": reasons})
