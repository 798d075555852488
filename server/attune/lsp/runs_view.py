"""The "last run" lens line: the newest finished run of a file in the telemetry store
(opened read-only), cached per path and keyed by the store's change, so a lens
request costs a ``stat`` of the store's files, not a query."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .watchers import ReportOnce

logger = logging.getLogger(__name__)

_FINISHED = ("ok", "failed", "cancelled")


def last_run_text(run: Any) -> tuple[str, str]:
    """(title, tooltip): ``last run $0.31 (est. $0.35)``, short; the tooltip says the
    error, when and how it ended. A subscription run's dollars are its API-equivalent."""
    from attune.models.formatting import format_money

    actual = run.actual_api_cost or 0.0
    estimate = run.estimated_api_cost
    pct = run.error_pct
    status = "" if run.status == "ok" else f" · {run.status}"
    title = f"last run {format_money(actual)} (est. {format_money(estimate)}){status}"
    rows = [
        f"The last {run.task} run of this file, {run.mode}"
        + (", API-equivalent dollars" if run.mode != "api" else "")
        + f": {format_money(actual)} against an estimate of {format_money(estimate)}"
        + (f" ({pct:+.0f}%)".replace("-", "\u2212") if pct is not None else "")
        + ".",
        f"Status: {run.status}. See it with `attune runs show {run.run_id}`.",
    ]
    return title, "\n".join(rows)


class LastRuns:
    def __init__(self) -> None:
        self.generation = 0  # bumped when this server finished a run
        self._cache: dict[str, tuple[Any, tuple[str, str] | None]] = {}
        self._store: Any = None
        self._seen: Any = None

    def changed(self) -> None:
        self.generation += 1

    def store_changed(self) -> bool:
        """Whether the store changed since the last call, once a lens has looked it up
        (two ``stat`` calls; nothing before the first lens)."""
        if not self._cache:
            return False
        key = self._store_files_key()[1:]  # the files only: this server's runs refresh at once
        seen, self._seen = self._seen, key
        return seen is not None and seen != key

    async def watch(self, on_change: Callable[[], None], reports: ReportOnce) -> None:
        """Calls ``on_change`` (a lens refresh) after another process, such as
        ``attune run`` in a terminal, wrote to the store."""
        from .watchers import POLL_SECONDS

        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                if self.store_changed():
                    on_change()
                reports.ok("runs watcher")
            except Exception as exc:  # keep watching; say so once
                reports.failed("runs watcher", f"Watching the runs store failed: {exc!r}")

    def _store_files_key(self) -> Any:
        if self._store is None:
            from attune.models.telemetry.store import get_telemetry_store

            self._store = get_telemetry_store(read_only=True)
        key: list[Any] = [self.generation]
        for suffix in ("", "-wal"):
            try:
                st = os.stat(f"{self._store.path}{suffix}")
            except OSError:
                key.append(None)
            else:
                key.append((st.st_mtime_ns, st.st_size, st.st_ino))
        return tuple(key)

    def _query(self, path: str) -> tuple[str, str] | None:
        for run in self._store.list_runs(path=path, limit=10):
            if run.status in _FINISHED:
                return last_run_text(run)
        return None

    async def text_for(self, path: str) -> tuple[str, str] | None:
        """The lens (title, tooltip) for ``path``, or None when it has no finished run. A store that
        cannot be read is logged once per change of the store; the other lenses stay."""
        try:
            key = self._store_files_key()
        except Exception as exc:
            logger.warning("runs store not opened (%s: %s)", type(exc).__name__, exc)
            return None
        cached = self._cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            text = await asyncio.to_thread(self._query, path)
        except Exception as exc:
            logger.warning("runs store not read (%s: %s)", type(exc).__name__, exc)
            text = None
        self._cache[path] = (key, text)
        return text
