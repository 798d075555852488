"""Open documents kept as a list of lines, so an edit costs the size of the edit.

pygls's ``TextDocument`` rebuilds the whole text on every incremental change (and
splits it again to find the edited line): typing in a 100,000-line file costs
tens of milliseconds a keystroke. ``LineDocument`` keeps the lines and replaces
only those an edit touches; the text is joined when it is read (``source``), which
the server does once the edits pause (after the debounce).

Lines end where LSP says they end: ``\\n``, ``\\r\\n`` or ``\\r`` only. (pygls splits
with ``str.splitlines``, which also breaks at form feeds, ``\\x1c``-``\\x1e``, ``\\x85``
and ``\\u2028``/``\\u2029``, so an edit below such a character lands on the wrong line.)
Positions past the end of a line mean its end, past the last line the end of the
document, as the specification says.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lsprotocol import types
from pygls.workspace import PositionCodec, TextDocument, Workspace

_BREAK = re.compile(r"(\r\n|\r|\n)")
_OTHER_SPLITLINES_BREAKS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # str.splitlines breaks, not LSP's


def split_lines(text: str) -> list[str]:
    """The lines of ``text``, each with its line end, then the last line (without
    one, possibly empty): ``"a\\nb\\n"`` -> ``["a\\n", "b\\n", ""]``. Never empty."""
    if not any(c in text for c in _OTHER_SPLITLINES_BREAKS):
        lines = text.splitlines(keepends=True)  # the fast way, exact for this text
        if not lines or lines[-1].endswith(("\n", "\r")):
            lines.append("")
        return lines
    parts = _BREAK.split(text)  # content, break, content, break, ..., content
    return [parts[i] + parts[i + 1] for i in range(0, len(parts) - 1, 2)] + [parts[-1]]


def _content(line: str) -> str:
    return line.rstrip("\r\n")  # a line holds at most one line end, at its end


def _code_points(text: str, units: int, encoding: str | None) -> int:
    """How many characters of ``text`` ``units`` code units of ``encoding`` cover (at most all)."""
    if encoding == types.PositionEncodingKind.Utf32 or text.isascii():
        return min(units, len(text))
    utf8 = encoding == types.PositionEncodingKind.Utf8
    counted = 0
    for index, char in enumerate(text):
        if counted >= units:
            return index
        code = ord(char)
        if utf8:
            counted += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        else:  # UTF-16, the default
            counted += 2 if code > 0xFFFF else 1
    return len(text)


class LineDocument(TextDocument):
    """An open document as a list of lines (see the module docstring)."""

    def __init__(
        self,
        uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
        sync_kind: types.TextDocumentSyncKind = types.TextDocumentSyncKind.Incremental,
        position_codec: PositionCodec | None = None,
    ) -> None:
        super().__init__(uri, None, version, language_id, sync_kind=sync_kind, position_codec=position_codec)
        self._encoding = self.position_codec.encoding
        self._text: str | None = source or ""  # the joined text, when known
        self._lines: list[str] | None = None  # split on the first incremental change

    # ---- what the server reads --------------------------------------------------

    @property
    def source(self) -> str:
        if self._text is None:
            assert self._lines is not None
            self._text = "".join(self._lines)
        return self._text

    @property
    def lines(self) -> Sequence[str]:
        lines = self._split()
        return lines[:-1] if lines[-1] == "" else lines  # pygls's shape: no empty last line

    # ---- edits ------------------------------------------------------------------

    def apply_change(self, change: types.TextDocumentContentChangeEvent) -> None:
        if self._is_sync_kind_none:
            return
        if isinstance(change, types.TextDocumentContentChangePartial):
            self._replace(change.range, change.text)
        else:
            self._text, self._lines = change.text, None

    def _split(self) -> list[str]:
        if self._lines is None:
            self._lines = split_lines(self.source)
        return self._lines

    def _point(self, lines: list[str], position: types.Position) -> tuple[int, int]:
        """(line, character index) of a client position, clamped to the document."""
        if position.line >= len(lines):
            return len(lines) - 1, len(_content(lines[-1]))
        line = max(position.line, 0)
        return line, _code_points(_content(lines[line]), max(position.character, 0), self._encoding)

    def _replace(self, where: types.Range, text: str) -> None:
        lines = self._split()
        start, end = sorted((self._point(lines, where.start), self._point(lines, where.end)))
        first, last = start[0], end[0] + 1  # the lines replaced: lines[first:last]
        new = lines[start[0]][: start[1]] + text + lines[end[0]][end[1] :]
        # a lone "\r" and a "\n" that meet make one line end
        if new.startswith("\n") and first > 0 and lines[first - 1].endswith("\r"):
            first -= 1
            new = lines[first] + new
        if new.endswith("\r") and last < len(lines) and lines[last].startswith("\n"):
            new += lines[last]
            last += 1
        replacement = split_lines(new)
        if last < len(lines):  # the lines after keep their place: drop the empty tail
            replacement.pop()
        lines[first:last] = replacement
        self._text = None


class LineWorkspace(Workspace):
    """pygls's workspace, with open documents kept as ``LineDocument``."""

    def _create_text_document(
        self,
        doc_uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
    ) -> TextDocument:
        if source is None:  # not open: pygls's document, which reads the file when asked
            return super()._create_text_document(doc_uri, source, version, language_id)
        return LineDocument(doc_uri, source, version, language_id, self._sync_kind, self.position_codec)
