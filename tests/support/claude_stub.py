"""A stand-in for the Claude Code CLI (``claude``) in tests.

``write_claude_stub(folder, mode)`` writes an executable Python script named
``claude`` that behaves like ``claude -p --output-format json`` does: it reads the
prompt from stdin and prints one JSON object of the documented print-mode shape
(``type: "result"``, ``subtype``, ``is_error``, ``result``, ``session_id``,
``total_cost_usd``, ``usage`` with input, output and cache tokens, ``duration_ms``,
``duration_api_ms``, ``num_turns``). Point the code under test at it with
``ATTUNE_CLAUDE_BIN``.

Modes:

- ``success``: exit 0, ``is_error`` false, a reply; input tokens are one per 3.6
  bytes of the prompt, output tokens a fixed share of them;
- ``exit``: prints an error on stderr and exits 1, no JSON;
- ``malformed``: exit 0 with output that is not JSON;
- ``not_logged_in``: exit 1 with ``is_error`` true and the message Claude Code prints
  when it has no credentials (``Invalid API key · Please run /login``);
- ``hang``: reads the prompt, then sleeps (until killed).

Every invocation appends its arguments, prompt size, process id and whether
``ANTHROPIC_API_KEY`` was in its environment to ``calls.jsonl`` next to the script,
so tests can check the model alias, what was sent and that a hung one was killed.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any

MODES = ("success", "exit", "malformed", "not_logged_in", "hang")
NOT_LOGGED_IN = "Invalid API key · Please run /login"
STUB_REPLY = "Documentation written by the Claude Code stub."

_SCRIPT = r"""#!{python}
import json, math, os, sys, time, uuid
MODE = {mode!r}
prompt = sys.stdin.read()
with open({log!r}, "a", encoding="utf-8") as log:
    log.write(json.dumps({{
        "argv": sys.argv[1:],
        "prompt_bytes": len(prompt.encode("utf-8")),
        "pid": os.getpid(),
        "api_key_in_env": "ANTHROPIC_API_KEY" in os.environ,
    }}) + "\n")
if MODE == "exit":
    sys.stderr.write("Error: something went wrong inside claude\n")
    sys.exit(1)
if MODE == "malformed":
    sys.stdout.write("Claude Code v2 {{ this is not JSON\n")
    sys.exit(0)
if MODE == "hang":
    time.sleep(3600)
    sys.exit(0)
tokens_in = max(1, math.ceil(len(prompt.encode("utf-8")) / 3.6))
tokens_out = max(1, tokens_in // 4)
error = MODE == "not_logged_in"
result = {{
    "type": "result",
    "subtype": "success",
    "is_error": error,
    "duration_ms": 1234,
    "duration_api_ms": 1100,
    "num_turns": 1,
    "result": {not_logged_in!r} if error else {reply!r},
    "session_id": str(uuid.uuid4()),
    "total_cost_usd": 0.0 if error else round((tokens_in * 3 + tokens_out * 15) / 1e6, 6),
    "usage": {{
        "input_tokens": 0 if error else tokens_in,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0 if error else 100,
        "output_tokens": 0 if error else tokens_out,
        "server_tool_use": {{"web_search_requests": 0}},
        "service_tier": "standard",
    }},
}}
sys.stdout.write(json.dumps(result) + "\n")
sys.exit(1 if error else 0)
"""


def write_claude_stub(folder: Path, mode: str = "success") -> Path:
    """Write the ``claude`` stub into ``folder`` (made executable) and return its path."""
    if mode not in MODES:
        raise ValueError(f"unknown stub mode {mode!r}; one of {', '.join(MODES)}")
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "claude"
    script.write_text(
        _SCRIPT.format(
            python=sys.executable,
            mode=mode,
            log=str(folder / "calls.jsonl"),
            not_logged_in=NOT_LOGGED_IN,
            reply=STUB_REPLY,
        ),
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def stub_calls(script: Path) -> list[dict[str, Any]]:
    """The invocations the stub recorded (argv and prompt size), oldest first."""
    log = script.parent / "calls.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
