"""Background loops: the strategy file (stat poll) and the shared breaker store
(change-token poll plus retry_at deadlines).

Polling, not inotify: the strategy is replaced by atomic rename, edited by hand,
or lives on a network home; a 0.5 s ``stat`` costs nothing and needs no new
dependency. Each loop reports a failure once and says when it recovers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from .breaker_view import breaker_payload, next_retry_at

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5


class ReportOnce:
    """Log a background problem once per distinct message, and once when it clears."""

    def __init__(self) -> None:
        self._active: dict[str, str] = {}

    def failed(self, key: str, message: str) -> bool:
        """True when this is news (the caller may also tell the user)."""
        if self._active.get(key) == message:
            return False
        self._active[key] = message
        logger.error("%s", message)
        return True

    def ok(self, key: str) -> None:
        if self._active.pop(key, None) is not None:
            logger.info("%s: working again", key)


async def poll_forever(
    check: Callable[[], Awaitable[object]], reports: ReportOnce, name: str, problem: str, seconds: float
) -> None:
    """Run ``check`` every ``seconds`` for as long as the server runs; a failure is
    reported once ("<problem>: <error>") and the watching goes on."""
    while True:
        try:
            await check()
            reports.ok(name)
        except Exception as exc:  # keep watching; say so once
            reports.failed(name, f"{problem}: {exc}")
        await asyncio.sleep(seconds)


def _file_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class StrategyWatcher:
    """Holds the loaded strategy and calibration (or the reasons they cannot be
    loaded) and reloads both when either file's (mtime_ns, size, inode) change."""

    def __init__(self, on_change: Callable[[bool], None], reports: ReportOnce) -> None:
        from attune.models.calibration.model import calibration_path
        from attune.models.strategy.model import strategy_file_path

        self.path = strategy_file_path()
        self.calibration_path = calibration_path()
        self.strategy: Any = None  # AuthStrategy
        self.problem: str | None = None  # why the file cannot be used
        self.calibration: Any = None  # Calibration, None when missing or unusable
        self.calibration_problem: str | None = None
        self.generation = 0
        self._stat: tuple[Any, Any] | str = "unread"
        self._on_change = on_change
        self._reports = reports

    def _stat_key(self) -> tuple[Any, Any]:
        return (_file_key(self.path), _file_key(self.calibration_path))

    def check(self) -> bool:
        """Reload when the file changed, then tell ``on_change``; True when it did."""
        key = self._stat_key()
        if key == self._stat:
            return False
        initial = self._stat == "unread"
        self._stat = key
        self._load()
        self._on_change(initial)
        return True

    def _load(self) -> None:
        from attune.models.calibration.model import CalibrationFileError, load_calibration
        from attune.models.strategy.model import AuthStrategy, StrategyFileError

        try:
            self.strategy, self.problem = AuthStrategy.load(self.path), None
            self._reports.ok("strategy file")
        except StrategyFileError as exc:
            self.strategy, self.problem = None, exc.problem
            self._reports.failed("strategy file", str(exc))
        try:  # an unusable calibration is reported; estimates fall back to the defaults
            self.calibration, self.calibration_problem = load_calibration(self.calibration_path), None
            self._reports.ok("calibration file")
        except CalibrationFileError as exc:
            self.calibration, self.calibration_problem = None, str(exc)
            self._reports.failed("calibration file", str(exc))
        self.generation += 1
        logger.info("Strategy %s (generation %d)", "invalid" if self.problem else "loaded", self.generation)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                self.check()
                self._reports.ok("strategy watcher")
            except Exception as exc:  # keep watching; say so once
                self._reports.failed("strategy watcher", f"Watching {self.path} failed: {exc!r}")


class BreakerWatcher:
    """Sends ``attune/breakerStatus`` once at start and after every change of the
    shared store (any process), or when an open breaker's retry_at passes."""

    def __init__(
        self,
        send: Callable[[dict[str, Any]], None],
        reports: ReportOnce,
        breaker: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._send = send
        self._reports = reports
        self._breaker: Any = breaker  # None: the shared one, built on first use
        self._clock = clock
        self._token: Any = object()
        self._next_retry: float | None = None
        self._last: dict[str, Any] | None = None

    def breaker(self) -> Any:
        if self._breaker is None:
            from attune.models.breaker.circuit_breaker import get_circuit_breaker

            self._breaker = get_circuit_breaker()
        return self._breaker

    def _poll(self, force: bool) -> dict[str, Any] | None:
        """Runs in a worker thread: the store may be SQLite or Redis."""
        breaker = self.breaker()
        token = breaker.change_token()
        due = self._next_retry is not None and self._clock() >= self._next_retry
        if not force and token == self._token and not due:
            return None
        self._token = token
        status = breaker.get_status()
        self._next_retry = next_retry_at(status)
        return breaker_payload(status)

    async def check(self, force: bool = False) -> None:
        payload = await asyncio.to_thread(self._poll, force)
        if payload is not None and (force or payload != self._last):
            self._last = payload
            self._send(payload)

    async def run(self) -> None:
        first = True
        while True:
            try:
                await self.check(force=first)
                first = False
                self._reports.ok("breaker watcher")
            except Exception as exc:
                self._reports.failed("breaker watcher", f"Reading the circuit breaker store failed: {exc!r}")
            await asyncio.sleep(POLL_SECONDS)
