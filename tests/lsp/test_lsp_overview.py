"""The workspace overview through a real client: attune/workspaceSummary with its
work-done progress and cancellation, lenses answered while a summary is in flight,
and attune/workspaceChanged after a save or a strategy change.

A summary is held in flight deterministically by holding the count cache's write lock
from the test (as another process writing it would): the summary counts every file,
then waits for the lock to store what it counted."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from attune.models.advice import EstimateContext
from attune.models.overview import counts_db_path, workspace_summary
from attune.models.strategy.model import AuthStrategy, SubscriptionTier
from support.lsp_session import SERVER, Session, capabilities, eventually, keep_raw_params, python_source

SUMMARY = "attune/workspaceSummary"
CHANGED = "attune/workspaceChanged"
INVALID_PARAMS = -32602
REQUEST_CANCELLED = -32800
DEADLINE_S = 60.0  # only ends a broken test; nothing is timed against it


def plain(value: Any) -> Any:
    """pygls hands a custom request's result over as namedtuples: back to JSON values."""
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(python_source(40))
    (root / "src" / "empty.py").write_text("")
    (root / "notes.txt").write_text("not source\n")
    return root


def big_tree(root: Path, count: int = 300) -> None:
    (root / "generated_many").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / "generated_many" / f"m{i:04d}.py").write_text(python_source(i % 30))


@pytest_asyncio.fixture
async def open_workspace(server_env: dict[str, str]):
    """``await open_workspace(folder)``: a session whose first workspace folder is ``folder``,
    recording attune/workspaceChanged notifications in ``session.changes``."""
    clients: list[LanguageClient] = []

    async def start(folder: Path) -> Session:
        client = await ClientServerConfig(server_command=SERVER, server_env=server_env).start()
        clients.append(client)
        session = Session(client, received=_Changes())
        keep_raw_params(client, CHANGED)

        @client.feature(CHANGED)
        def _changed(ls: LanguageClient, params: Any) -> None:
            session.received.changes.append(params)

        await client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities(refresh=True, work_done_progress=True),
                workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name=folder.name)],
            )
        )
        return session

    yield start
    for client in clients:
        try:
            await asyncio.wait_for(client.shutdown_session(), 10)
        finally:
            await client.stop()


class _Changes:
    def __init__(self) -> None:
        self.changes: list[Any] = []
        self.refreshes = 0


def summary_request(session: Session, token: str | None = None, **params: Any) -> asyncio.Future[Any]:
    if token is not None:
        session.client.progress_reports.setdefault(token, [])
        params["workDoneToken"] = token
    return asyncio.ensure_future(session.client.protocol.send_request_async(SUMMARY, params, msg_id=token))


def reports(session: Session, token: str) -> list[Any]:
    return session.client.progress_reports.get(token, [])


class CacheLock:
    """The count cache's write lock, held by this process: a summary counts every
    file, then waits here to store its counts."""

    def __init__(self) -> None:
        scratch = counts_db_path().parent / "scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        # a summary of anything creates counts.db with its schema
        workspace_summary(scratch, context=EstimateContext(AuthStrategy()))
        self.conn = sqlite3.connect(counts_db_path(), isolation_level=None)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.close()


async def test_the_summary_lists_every_file_with_progress_in_order(open_workspace, workspace):
    session = await open_workspace(workspace)
    summary = plain(await asyncio.wait_for(summary_request(session, "sum-1", task="review"), DEADLINE_S))

    assert summary["root"] == str(workspace.resolve()) and summary["task"] == "review"
    assert [row["path"] for row in summary["files"]] == ["src/app.py", "src/empty.py"]
    assert summary["files"][1]["tokens"] == 0 and summary["files"][0]["folder"] == "src"
    assert set(summary["files"][0]["costs"]) == set(summary["tasks"])
    progress = await eventually(lambda: (r := reports(session, "sum-1")) and r[-1].kind == "end" and r)
    kinds = [r.kind for r in progress]
    assert kinds[0] == "begin" and kinds[-1] == "end" and set(kinds[1:-1]) == {"report"}
    assert progress[-2].message == "2/2 files" and progress[-1].message == "2 files"


async def test_a_folder_and_a_plan_without_quota(open_workspace, workspace, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "lib.rs").write_text("fn main() {}\n")
    session = await open_workspace(workspace)
    summary = plain(await summary_request(session, folder=other.as_uri()))
    assert [row["path"] for row in summary["files"]] == ["lib.rs"]
    assert summary["modes_offered"] == ["api"] and "subscription" not in str(summary).lower()

    with pytest.raises(JsonRpcException) as bad:
        await summary_request(session, task="nope")
    assert bad.value.code == INVALID_PARAMS and "unknown task" in bad.value.message


async def test_a_lens_is_answered_while_a_summary_is_in_flight(open_workspace, workspace):
    big_tree(workspace)
    lock = CacheLock()
    try:
        session = await open_workspace(workspace)
        pending = summary_request(session, "sum-big")
        await eventually(
            lambda: any(r.kind == "report" and r.message == "302/302 files" for r in reports(session, "sum-big")),
            DEADLINE_S,
            "every file counted",
        )
        titles = await asyncio.wait_for(session.lens_titles((workspace / "src" / "app.py").as_uri()), DEADLINE_S)
        assert titles[0].startswith("Small · 40 lines")
        assert not pending.done()  # the summary is still waiting to store its counts
    finally:
        lock.release()
    summary = plain(await asyncio.wait_for(pending, DEADLINE_S))
    assert len(summary["files"]) == 302


async def test_cancel_request_ends_the_summary_and_its_progress(open_workspace, workspace):
    big_tree(workspace)
    lock = CacheLock()
    try:
        session = await open_workspace(workspace)
        token = f"sum-{uuid.uuid4().hex}"
        pending = summary_request(session, token)
        await eventually(lambda: len(reports(session, token)) > 1, DEADLINE_S, "a progress report")
        session.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=token))
        with pytest.raises(JsonRpcException) as cancelled:
            await asyncio.wait_for(pending, DEADLINE_S)
        assert cancelled.value.code == REQUEST_CANCELLED
        progress = await eventually(lambda: (r := reports(session, token)) and r[-1].kind == "end" and r)
        assert progress[-1].message == "cancelled"
    finally:
        lock.release()


async def test_workspace_changed_after_a_save_in_the_workspace(open_workspace, workspace):
    session = await open_workspace(workspace)
    uri = (workspace / "src" / "app.py").as_uri()
    session.client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    changes = await eventually(lambda: session.received.changes, DEADLINE_S, "attune/workspaceChanged")
    assert changes[0] == {"reasons": ["save"]}
    # the re-summary of a workspace unchanged on disk is answered from the count cache
    first = plain(await summary_request(session))
    again = plain(await summary_request(session))
    assert again["cache"] == {"hits": 2, "misses": 0} and again["files"] == first["files"]


async def test_workspace_changed_after_a_strategy_change(open_workspace, workspace):
    AuthStrategy(subscription_tier=SubscriptionTier.PRO).save()
    session = await open_workspace(workspace)
    before = plain(await summary_request(session))
    assert before["modes_offered"] == ["subscription", "api"]
    AuthStrategy(subscription_tier=SubscriptionTier.API_ONLY).save()

    changes = await eventually(lambda: session.received.changes, DEADLINE_S, "attune/workspaceChanged")
    assert changes[0] == {"reasons": ["strategy"]}
    after = plain(await summary_request(session))
    assert after["modes_offered"] == ["api"]
