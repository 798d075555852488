"""Files that are not regular files (a FIFO, a device, a directory), and user-named
files read off the event loop: the server answers at once with the reason, never
opens a FIFO, and keeps answering other requests meanwhile."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from support.lsp_session import python_source

REQUEST_FAILED = -32803
HANG_GUARD = 60.0  # seconds; a hang guard, not a speed assertion


def not_analysed(kind: str) -> list[str]:
    return [f"Attune: not analysed — not a regular file ({kind})"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
async def test_a_never_opened_fifo_device_or_directory_gets_the_reason(start_session, tmp_path: Path):
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    folder = tmp_path / "package.py"
    folder.mkdir()
    source = tmp_path / "mod.py"
    source.write_text(python_source(7))
    session = await start_session(init_options={"details": {"showMessage": False}})
    for _ in range(5):  # each would have held a worker thread on the FIFO for ever
        assert await asyncio.wait_for(session.lens_titles(fifo.as_uri()), HANG_GUARD) == not_analysed("a FIFO")
    assert await session.lens_titles(folder.as_uri()) == not_analysed("a directory")
    assert await session.lens_titles("file:///dev/zero") == not_analysed("a character device")
    for command in ("attune.server.recommend", "attune.server.showDetails", "attune.server.countTokens"):
        with pytest.raises(JsonRpcException) as refused:
            await asyncio.wait_for(session.command(command, {"uri": fifo.as_uri()}), HANG_GUARD)
        assert refused.value.code == REQUEST_FAILED
        assert refused.value.message == f"{command}: {fifo.as_uri()} not analysed — not a regular file (a FIFO)"
    assert (await session.lens_titles(source.as_uri()))[0] == "Small · 7 lines"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
async def test_restoring_a_fifo_or_dev_zero_is_refused_and_changes_nothing(start_session, tmp_path: Path):
    fifo = tmp_path / "backup.json"
    os.mkfifo(fifo)
    session = await start_session()
    saved = await session.command("attune.server.setupAuth", {"tier": "pro", "mode": "auto"})
    for backup, kind in ((str(fifo), "a FIFO"), ("/dev/zero", "a character device")):
        with pytest.raises(JsonRpcException) as refused:
            await asyncio.wait_for(session.command("attune.server.restoreAuth", {"backup": backup}), HANG_GUARD)
        assert refused.value.code == REQUEST_FAILED
        assert f"{backup}: not a regular file ({kind})" in refused.value.message
    status = await session.command("attune.server.authStatus")
    assert status["subscription_tier"] == saved["subscription_tier"] == "pro"


async def test_other_requests_are_answered_while_a_restore_waits(start_session, tmp_path: Path, server_env):
    """Another process holds the strategy lock: the restore waits for it in a worker
    thread while the lenses and the other commands keep being answered."""
    source = tmp_path / "mod.py"
    source.write_text(python_source(9))
    session = await start_session()
    await session.command("attune.server.setupAuth", {"tier": "pro", "mode": "auto"})
    await session.command("attune.server.setupAuth", {"tier": "max", "mode": "api"})  # "pro" is now a backup
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys\n"
            "from pathlib import Path\n"
            "from attune.models.strategy.model import strategy_lock\n"
            "with strategy_lock(Path(os.environ['ATTUNE_HOME']) / 'auth_strategy.json'):\n"
            "    print('locked', flush=True)\n"
            "    sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=server_env,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        restore = asyncio.ensure_future(session.command("attune.server.restoreAuth", {}))
        status = await asyncio.wait_for(session.command("attune.server.authStatus"), HANG_GUARD)
        titles = await asyncio.wait_for(session.lens_titles(source.as_uri()), HANG_GUARD)
        assert not restore.done()  # still waiting for the lock, and the server answered
        assert status["subscription_tier"] == "max"
        assert titles[0] == "Small · 9 lines"
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(HANG_GUARD)
    restored = await asyncio.wait_for(restore, HANG_GUARD)
    assert restored["current"]["subscription_tier"] == "pro"
