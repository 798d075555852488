"""Reading Claude Code's log lines into usage entries.

Only lines holding an ``"assistant"`` value (``"type":"assistant"``) need parsing.
Inside a JSON string quotes are escaped (``\\"assistant\\"``), so a plain substring
test passes over user messages, tool results and summaries without parsing them:
most of a log's bytes.

A line is *skipped* (and counted as such) when it is not a JSON object, or when it
is an assistant entry without usage or with usage in another shape than the
documented one (``message.usage`` with integer token counts, an ISO 8601
``timestamp``). Other kinds of lines (user messages, tool
results, summaries) are not entries and not counted. A bad line never stops a read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_ASSISTANT = b'"assistant"'
_OPEN, _CLOSE = ord("{"), ord("}")  # compared with a line's first and last byte
#: Claude Code's model name for messages it made up itself (errors, interruptions): no API call.
SYNTHETIC_MODEL = "<synthetic>"


@dataclass(slots=True)
class Entry:
    """One assistant message's usage, as logged."""

    message_id: str  # the API's message id; ``@<source>:<offset>`` for a line without one (never deduplicated)
    request_id: str  # "" when the line has none
    ts_ms: int  # UTC milliseconds since the epoch
    model: str
    project: str  # the workspace: the entry's cwd
    session_id: str
    input: int
    output: int
    cache_creation: int
    cache_creation_1h: int
    cache_read: int
    sidechain: bool

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_creation + self.cache_read


class _Skip(Exception):
    """The line holds usage in a shape that cannot be read."""


def _count(usage: dict[str, Any], key: str, *, required: bool = False) -> int:
    value = usage.get(key)
    if value is None and not required:
        return 0
    if type(value) is not int or value < 0:
        raise _Skip
    return value


def _timestamp_ms(value: Any) -> int:
    if not isinstance(value, str):
        raise _Skip
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Skip from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def _text(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def entry_from(obj: Any, where: str, fallback_project: str) -> Entry | None:
    """The entry a parsed line holds; None for another kind of line. Raises _Skip
    for usage in the wrong shape. ``where`` names the line (file and offset): the key
    of an entry without a message id, which is then never taken for a duplicate."""
    if not isinstance(obj, dict):
        raise _Skip
    if obj.get("type") != "assistant":
        return None  # e.g. a tool result quoting a sub-agent's usage: not a message of this session
    message = obj.get("message")
    usage = message.get("usage") if isinstance(message, dict) else None
    if not isinstance(message, dict) or not isinstance(usage, dict):
        raise _Skip  # an assistant entry always carries its usage
    model = _text(message.get("model"))
    if model == SYNTHETIC_MODEL:
        return None
    creation = usage.get("cache_creation")
    one_hour = _count(creation, "ephemeral_1h_input_tokens") if isinstance(creation, dict) else 0
    cache_creation = _count(usage, "cache_creation_input_tokens")
    message_id = message.get("id")
    return Entry(
        message_id=message_id if isinstance(message_id, str) and message_id else f"@{where}",
        request_id=_text(obj.get("requestId")),
        ts_ms=_timestamp_ms(obj.get("timestamp")),
        model=model,
        project=_text(obj.get("cwd")) or fallback_project,
        session_id=_text(obj.get("sessionId")),
        input=_count(usage, "input_tokens", required=True),
        output=_count(usage, "output_tokens", required=True),
        cache_creation=cache_creation,
        cache_creation_1h=min(one_hour, cache_creation),
        cache_read=_count(usage, "cache_read_input_tokens"),
        sidechain=obj.get("isSidechain") is True,
    )


def _repeat_key(line: bytes) -> bytes | None:
    """The line's ``requestId`` value and ``usage`` object, as bytes; None when they
    are not written the compact way Claude Code writes them. Claude Code logs a message
    once per content block: a line with the key of one already read (same request,
    same usage) would give the same entry, so it is not parsed again."""
    request = line.find(b'"requestId":"')
    usage = line.find(b'"usage":{')
    if request < 0 or usage < 0:
        return None
    request += 13
    request_end = line.find(b'"', request)
    start = usage + 8
    depth, i = 1, start + 1
    while depth:
        close = line.find(b"}", i)
        if close < 0:
            return None
        depth += line.count(b"{", i, close) - 1
        i = close + 1
    return line[request:request_end] + b" " + line[start:i]


def parse_lines(data: bytes, base_offset: int, source: str, fallback_project: str) -> tuple[list[Entry], int, int]:
    """The entries in the complete lines of ``data`` (bytes read at ``base_offset``
    of the file ``source`` names), how many bytes those lines span (a last line
    without its newline is left for the next read), and how many lines were skipped."""
    end = data.rfind(b"\n") + 1
    entries: list[Entry] = []
    skipped = 0
    pos = 0
    read: set[bytes] = set()
    for line in data[:end].split(b"\n"):
        start = pos
        pos += len(line) + 1
        if not line or line.isspace():
            continue
        if (line[0] != _OPEN or line[-1] != _CLOSE) and not (
            line.strip().startswith(b"{") and line.rstrip().endswith(b"}")
        ):
            skipped += 1  # not a JSON object: a cut or garbled line
            continue
        if _ASSISTANT not in line:
            continue
        key = _repeat_key(line)
        if key is not None and key in read:
            continue
        try:
            entry = entry_from(json.loads(line), f"{source}:{base_offset + start}", fallback_project)
        except (_Skip, ValueError, RecursionError):
            skipped += 1
            continue
        if entry is not None:
            entries.append(entry)
            if key is not None:
                read.add(key)
    return entries, end, skipped
