"""One stage on the subscription: ``claude -p --output-format json --model <alias>``.

The prompt goes on stdin (no argument length limit, nothing in ``ps``); Claude Code
prints one JSON object (``type: "result"``, ``is_error``, ``result``,
``total_cost_usd``, ``usage``...). ``ATTUNE_CLAUDE_BIN`` names another executable.

``ANTHROPIC_API_KEY`` is removed from Claude Code's environment: with it set, Claude
Code bills the key instead of the plan, and a subscription run would spend money.
It runs in an empty temporary folder, so it sees nothing of the project but the prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any

from attune.models.errors import AttuneError

CLAUDE_BIN_ENV = "ATTUNE_CLAUDE_BIN"
INSTALL_HINT = "install it with `npm install -g @anthropic-ai/claude-code` and log in by running `claude`"
API_ALTERNATIVE = "or run on the API with --mode api"
# the --model aliases Claude Code accepts, per tier
TIER_ALIASES = {"cheap": "haiku", "capable": "sonnet", "premium": "opus"}
_LOGIN_MARKERS = ("/login", "not logged in", "invalid api key", "please log in", "oauth token")


class ClaudeCodeError(AttuneError):
    """Claude Code failed or answered something that is not its JSON result."""

    error_type = "claude_code"


class ClaudeCodeMissingError(ClaudeCodeError):
    """No ``claude`` executable to run."""

    error_type = "claude_code_missing"


class ClaudeCodeNotLoggedInError(ClaudeCodeError):
    """Claude Code runs but has no credentials."""

    error_type = "claude_code_not_logged_in"


@dataclass(frozen=True)
class ClaudeCodeReply:
    text: str
    input_tokens: int
    output_tokens: int
    cache_tokens: int
    api_equivalent_cost: float  # Claude Code's total_cost_usd: what the API would have charged
    session_id: str | None


def claude_executable() -> str:
    """The path of the executable to run; ClaudeCodeMissingError naming what is missing."""
    configured = os.environ.get(CLAUDE_BIN_ENV)
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise ClaudeCodeMissingError(
                f"{CLAUDE_BIN_ENV} is {configured!r}, which is not an executable; "
                f"point it at Claude Code's `claude`, {API_ALTERNATIVE}"
            )
        return found
    found = shutil.which("claude")
    if found is None:
        raise ClaudeCodeMissingError(
            f"Claude Code (`claude`) is not on PATH, and subscription runs need it: {INSTALL_HINT}, {API_ALTERNATIVE}"
        )
    return found


def model_alias(tier: str) -> str:
    return TIER_ALIASES.get(tier, "sonnet")


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ANTHROPIC_API_KEY", None)
    return env


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else 0


def parse_reply(stdout: bytes, stderr: bytes, returncode: int) -> ClaudeCodeReply:
    """Claude Code's printed result as a reply, or the ClaudeCodeError it amounts to."""
    text = stdout.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text) if text else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or data.get("type") != "result":
        if returncode != 0:
            said = _last_line(stderr) or _last_line(stdout)
            raise ClaudeCodeError(f"Claude Code exited with status {returncode}" + (f": {said}" if said else ""))
        raise ClaudeCodeError(
            f"Claude Code printed something that is not its JSON result: {text[:80]!r}"
            + (" (truncated)" if len(text) > 80 else "")
        )
    result = data.get("result")
    message = result if isinstance(result, str) else ""
    if data.get("is_error") or returncode != 0:
        said = message.strip() or _last_line(stderr) or f"exit status {returncode}"
        if any(marker in said.lower() for marker in _LOGIN_MARKERS):
            raise ClaudeCodeNotLoggedInError(
                f"Claude Code is not logged in (it said: {said}): run `claude` and log in with /login, "
                + API_ALTERNATIVE
            )
        raise ClaudeCodeError(f"Claude Code reported an error ({data.get('subtype') or 'error'}): {said}")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    assert isinstance(usage, dict)
    cost = data.get("total_cost_usd")
    return ClaudeCodeReply(
        text=message,
        input_tokens=_int(usage.get("input_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
        cache_tokens=_int(usage.get("cache_creation_input_tokens")) + _int(usage.get("cache_read_input_tokens")),
        api_equivalent_cost=float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else 0.0,
        session_id=str(data["session_id"]) if data.get("session_id") else None,
    )


def _last_line(data: bytes) -> str:
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


async def run_claude(prompt: str, tier: str, *, executable: str | None = None) -> ClaudeCodeReply:
    """One print-mode call. Cancelling it (a timeout, the user) kills the process."""
    exe = executable or claude_executable()
    args = [exe, "-p", "--output-format", "json", "--model", model_alias(tier)]
    with tempfile.TemporaryDirectory(prefix="attune-claude-") as workdir:
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=workdir,
            env=_child_env(),
            start_new_session=True,  # the terminal's Ctrl-C reaches Attune, which kills it
        )
        try:
            stdout, stderr = await process.communicate(prompt.encode("utf-8"))
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(Exception):
                await asyncio.shield(process.wait())
            raise
    return parse_reply(stdout, stderr, process.returncode or 0)
