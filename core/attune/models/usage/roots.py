"""Where Claude Code keeps its session logs, and the log files under those folders.

The order of precedence: ``ATTUNE_CLAUDE_LOGS`` (one folder or a comma-separated
list, scanned as they are) overrides everything; else ``CLAUDE_CONFIG_DIR`` (one
folder or a comma-separated list; each one's ``projects/`` is scanned, and a folder
named ``projects`` itself is taken as it is, as ccusage does); else both of Claude
Code's default folders, ``$XDG_CONFIG_HOME/claude/projects`` (``~/.config``) and
``~/.claude/projects``. Folders are listed whether they exist or not, so a message
can name where it looked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

LOGS_ENV = "ATTUNE_CLAUDE_LOGS"
CLAUDE_CONFIG_ENV = "CLAUDE_CONFIG_DIR"
LOG_SUFFIX = ".jsonl"


def _split(value: str) -> list[Path]:
    return [Path(part.strip()).expanduser() for part in value.split(",") if part.strip()]


def _unique(folders: list[Path]) -> list[Path]:
    seen: set[Path] = set()
    result = []
    for folder in folders:
        if folder not in seen:
            seen.add(folder)
            result.append(folder)
    return result


def log_roots(env: Mapping[str, str] | None = None) -> list[Path]:
    """The folders to scan for ``*.jsonl`` logs, in order, existing or not."""
    environ = os.environ if env is None else env
    override = environ.get(LOGS_ENV, "").strip()
    if override:
        return _unique(_split(override))
    config = environ.get(CLAUDE_CONFIG_ENV, "").strip()
    if config:
        return _unique([p if p.name == "projects" else p / "projects" for p in _split(config)])
    home = Path(environ["HOME"]) if environ.get("HOME") else Path.home()
    xdg = environ.get("XDG_CONFIG_HOME", "").strip()
    config_home = Path(xdg).expanduser() if xdg else home / ".config"
    return _unique([config_home / "claude" / "projects", home / ".claude" / "projects"])


def iter_log_files(roots: list[Path]) -> Iterator[tuple[str, os.stat_result]]:
    """Every regular ``*.jsonl`` file under ``roots`` (recursively, in name order) with its stat;
    a folder that is missing or cannot be listed is passed over. Symbolic links to
    folders are not followed (no loops)."""
    seen: set[str] = set()
    stack = [str(root) for root in reversed(roots)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subfolders = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.path)
                elif entry.name.endswith(LOG_SUFFIX) and entry.is_file() and entry.path not in seen:
                    seen.add(entry.path)
                    yield entry.path, entry.stat()
            except OSError:
                continue
        stack.extend(sorted(subfolders, reverse=True))
