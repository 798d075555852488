"""The analysis cache: one Analysis per document, keyed by version and content.

- Open documents: recomputed after an edit once the debounce elapses (or at once
  on save); an unchanged text (same hash) keeps its analysis under the new version.
- Files the client never opened: analysed from disk, keyed by (mtime_ns, size).
- Counting runs in a worker thread, so a 100,000-line file never stalls the other
  requests; lens requests for a version being computed await that computation.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from .analysis import Analysis, InvalidUri, analyze_disk_file, analyze_open_text, content_hash, uri_path

logger = logging.getLogger(__name__)


class DocumentAnalyses:
    def __init__(self, workspace: Callable[[], Any], max_bytes: Callable[[], int]) -> None:
        self._workspace = workspace
        self._max_bytes = max_bytes
        self._entries: dict[str, Analysis] = {}
        self._pending: dict[str, tuple[Any, asyncio.Task[Analysis]]] = {}
        self.exact_tokens: dict[str, tuple[str, int]] = {}  # uri -> (content key, tokens)

    # ---- events -------------------------------------------------------------

    def changed(self, uri: str, delay_seconds: float) -> None:
        """An edit: recompute after ``delay_seconds`` unless another edit comes first."""
        doc = self._open(uri)
        if doc is not None:
            self._start(uri, doc.version, delay_seconds)

    def saved(self, uri: str) -> None:
        self.changed(uri, 0)

    def closed(self, uri: str) -> None:
        self._cancel(uri)
        self._entries.pop(uri, None)
        self.exact_tokens.pop(uri, None)

    def clear(self) -> None:
        """Settings that change the analysis itself (the size limit) changed."""
        for uri in list(self._pending):
            self._cancel(uri)
        self._entries.clear()

    # ---- queries ------------------------------------------------------------

    async def get(self, uri: str) -> Analysis:
        while True:
            doc = self._open(uri)
            if doc is None:
                return await self._get_from_disk(uri)
            cached = self._entries.get(uri)
            if cached is not None and cached.version == doc.version:
                return cached
            pending = self._pending.get(uri)
            task = pending[1] if pending and pending[0] == doc.version else self._start(uri, doc.version, 0)
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                # an edit replaced the computation we awaited: go again for the new
                # version, unless this request itself was cancelled
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise

    def text_of(self, uri: str) -> str | None:
        """The current text of an open document (None when it is not open)."""
        doc = self._open(uri)
        return doc.source if doc is not None else None

    def content_key(self, analysis: Analysis) -> str:
        return analysis.content_hash or repr(analysis.version)

    def exact_for(self, analysis: Analysis) -> int | None:
        stored = self.exact_tokens.get(analysis.uri)
        if stored and stored[0] == self.content_key(analysis):
            return stored[1]
        return None

    # ---- internals ----------------------------------------------------------

    def _open(self, uri: str) -> Any:
        return self._workspace().text_documents.get(unquote(uri))

    def _cancel(self, uri: str) -> None:
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending[1].cancel()

    def _start(self, uri: str, version: Any, delay_seconds: float) -> asyncio.Task[Analysis]:
        self._cancel(uri)
        task = asyncio.ensure_future(self._compute(uri, delay_seconds))
        self._pending[uri] = (version, task)
        task.add_done_callback(functools.partial(self._finished, uri))
        return task

    def _finished(self, uri: str, task: asyncio.Task[Analysis]) -> None:
        pending = self._pending.get(uri)
        if pending is not None and pending[1] is task:
            del self._pending[uri]
        if task.cancelled():
            return
        if task.exception() is not None:
            logger.error("Analysing %s failed: %r", uri, task.exception())
            return
        self._entries[uri] = task.result()

    async def _compute(self, uri: str, delay_seconds: float) -> Analysis:
        if delay_seconds > 0:
            await asyncio.sleep(delay_seconds)
        doc = self._open(uri)
        if doc is None:
            return await self._get_from_disk(uri)
        version, text, language = doc.version, doc.source, doc.language_id
        previous = self._entries.get(uri)
        max_bytes = self._max_bytes()

        def work() -> Analysis:
            digest = content_hash(text)
            if previous is not None and previous.content_hash == digest:
                return dataclasses.replace(previous, version=version)  # e.g. an undo, or a no-op save
            return analyze_open_text(uri, version, text, language, max_bytes, digest)

        return await asyncio.to_thread(work)

    async def _get_from_disk(self, uri: str) -> Analysis:
        try:
            path = uri_path(uri)
        except InvalidUri as exc:
            return Analysis(uri, uri, None, None, problem=str(exc))
        if path is None:
            return Analysis(
                uri, uri, None, None, problem="the document is not open in the editor and is not a file: URI"
            )
        cached = self._entries.get(uri)
        if cached is not None:
            try:
                st = os.stat(path)
                if cached.version == (st.st_mtime_ns, st.st_size):
                    return cached
            except OSError:
                pass
        analysis = await asyncio.to_thread(analyze_disk_file, uri, path, self._max_bytes())
        self._entries[uri] = analysis
        return analysis
