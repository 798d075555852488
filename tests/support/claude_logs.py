"""Claude Code session logs in their documented shape, for the usage tests and benchmark.

Claude Code appends one JSON object per line (``JSON.stringify``: no spaces) to
``projects/<encoded cwd>/<sessionId>.jsonl``. An assistant entry carries
``message.id``, ``message.model`` and ``message.usage`` (``input_tokens``,
``output_tokens``, ``cache_creation_input_tokens``, ``cache_read_input_tokens``,
``cache_creation.ephemeral_5m/1h_input_tokens``), with ``requestId``, ``timestamp``
(ISO 8601, UTC, milliseconds), ``sessionId``, ``cwd`` and ``isSidechain``. User
messages, tool results (often large) and summaries are other lines.

The ``claude_logs`` fixture gives a ``ClaudeLogs`` over a fresh folder that
``ATTUNE_CLAUDE_LOGS`` points at.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

DEFAULT_MODEL = "claude-sonnet-4-6"
DEFAULT_CWD = "/home/u/project"


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def iso(moment: datetime) -> str:
    """``2026-11-27T08:00:00.000Z``, as Claude Code writes timestamps."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def assistant_line(
    *,
    message_id: str,
    request_id: str,
    timestamp: datetime,
    input_tokens: int = 100,
    output_tokens: int = 50,
    cache_creation: int = 0,
    cache_read: int = 0,
    model: str = DEFAULT_MODEL,
    cwd: str = DEFAULT_CWD,
    session_id: str = "session-1",
    sidechain: bool = False,
    text: str = "Done.",
) -> str:
    return _dump(
        {
            "parentUuid": str(uuid.uuid4()),
            "isSidechain": sidechain,
            "userType": "external",
            "cwd": cwd,
            "sessionId": session_id,
            "version": "2.0.31",
            "gitBranch": "main",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": input_tokens,
                    "cache_creation_input_tokens": cache_creation,
                    "cache_read_input_tokens": cache_read,
                    "cache_creation": {"ephemeral_5m_input_tokens": cache_creation, "ephemeral_1h_input_tokens": 0},
                    "output_tokens": output_tokens,
                    "service_tier": "standard",
                },
            },
            "requestId": request_id,
            "type": "assistant",
            "uuid": str(uuid.uuid4()),
            "timestamp": iso(timestamp),
        }
    )


def user_line(*, timestamp: datetime, text: str = "Please look at this.", cwd: str = DEFAULT_CWD,
              session_id: str = "session-1") -> str:  # fmt: skip
    return _dump(
        {
            "parentUuid": None,
            "isSidechain": False,
            "userType": "external",
            "cwd": cwd,
            "sessionId": session_id,
            "version": "2.0.31",
            "gitBranch": "main",
            "type": "user",
            "message": {"role": "user", "content": text},
            "uuid": str(uuid.uuid4()),
            "timestamp": iso(timestamp),
        }
    )


def tool_result_line(*, timestamp: datetime, content: str, cwd: str = DEFAULT_CWD,
                     session_id: str = "session-1") -> str:  # fmt: skip
    """A tool's output handed back to the model: the large lines of a real log. A
    sub-agent's result quotes its own usage in ``toolUseResult`` (not a message of
    this session)."""
    return _dump(
        {
            "parentUuid": str(uuid.uuid4()),
            "isSidechain": False,
            "userType": "external",
            "cwd": cwd,
            "sessionId": session_id,
            "version": "2.0.31",
            "gitBranch": "main",
            "type": "user",
            "message": {
                "role": "user",
                "content": [
                    {"tool_use_id": f"toolu_{uuid.uuid4().hex[:24]}", "type": "tool_result", "content": content}
                ],
            },
            "uuid": str(uuid.uuid4()),
            "timestamp": iso(timestamp),
            "toolUseResult": {"stdout": content[:200], "usage": {"input_tokens": 7, "output_tokens": 3}},
        }
    )


def summary_line(text: str = "Refactoring the parser") -> str:
    return _dump({"type": "summary", "summary": text, "leafUuid": str(uuid.uuid4())})


class ClaudeLogs:
    """A folder of session logs: ``write`` appends lines to a session's file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._ids = 0

    def session_path(self, project: str = "-home-u-project", session_id: str = "session-1") -> Path:
        return self.root / project / f"{session_id}.jsonl"

    def write(self, path: Path, *lines: str, end: str = "\n") -> Path:
        """Append ``lines``, each followed by a newline (the last by ``end``)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "\n".join(lines) + end if lines else end
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text)
        return path

    def next_ids(self) -> tuple[str, str]:
        self._ids += 1
        return f"msg_{self._ids:06d}", f"req_{self._ids:06d}"

    def message(self, timestamp: datetime, **fields: Any) -> str:
        """An assistant line with fresh message and request ids."""
        message_id, request_id = self.next_ids()
        return assistant_line(message_id=message_id, request_id=request_id, timestamp=timestamp, **fields)


@pytest.fixture
def claude_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClaudeLogs:
    root = tmp_path / "claude" / "projects"
    root.mkdir(parents=True)
    monkeypatch.setenv("ATTUNE_CLAUDE_LOGS", str(root))
    return ClaudeLogs(root)


# ---- realistic sessions, for the benchmark -----------------------------------------


def realistic_session(rng: random.Random, start: datetime, *, cwd: str, session_id: str, turns: int,
                      model: str = DEFAULT_MODEL) -> Iterator[str]:  # fmt: skip
    """The lines of one session as Claude Code writes them: per turn a user line, then
    tool rounds (an assistant message logged once per content block with the same
    usage, a tool result of a few hundred bytes to tens of kilobytes), a closing
    reply; a summary line now and then."""
    moment = start
    filler = "lorem ipsum dolor sit amet consectetur " * 8
    cache = rng.randint(5_000, 20_000)
    for _ in range(turns):
        moment += timedelta(seconds=rng.randint(20, 240))
        yield user_line(timestamp=moment, text=filler[: rng.randint(40, 300)], cwd=cwd, session_id=session_id)
        for _ in range(rng.randint(1, 4)):
            moment += timedelta(seconds=rng.randint(2, 30))
            message_id, request_id = f"msg_{uuid.uuid4().hex}", f"req_{uuid.uuid4().hex}"
            usage = {
                "input_tokens": rng.randint(1, 50),
                "output_tokens": rng.randint(20, 2_000),
                "cache_creation": rng.randint(0, 4_000),
                "cache_read": cache,
            }
            cache += usage["cache_creation"]
            for block in range(rng.randint(1, 3)):
                yield assistant_line(
                    message_id=message_id, request_id=request_id, timestamp=moment, model=model, cwd=cwd,
                    session_id=session_id, input_tokens=usage["input_tokens"],
                    output_tokens=usage["output_tokens"], cache_creation=usage["cache_creation"],
                    cache_read=usage["cache_read"], text=filler[: rng.randint(50, 1_500)] + str(block),
                )  # fmt: skip
            size = int(rng.paretovariate(1.2) * 600)
            content = (filler * (size // len(filler) + 1))[: min(size, 60_000)]
            yield tool_result_line(timestamp=moment, content=content, cwd=cwd, session_id=session_id)
        if rng.random() < 0.05:
            yield summary_line()
