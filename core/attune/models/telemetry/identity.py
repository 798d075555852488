"""Who makes a call and on which machine, as telemetry records them.

``user``: ``ATTUNE_USER``, else git's ``user.email``, else the login name.
``machine``: the host name. Both are names a team reads in ``attune spend``; neither
may carry a secret, so a value that looks like a key or holds a password is refused
(``checked_name``) and the next source is used instead.
"""

from __future__ import annotations

import functools
import getpass
import os
import re
import socket
import subprocess

USER_ENV = "ATTUNE_USER"
MAX_NAME = 200
UNKNOWN = "unknown"

# shapes of credentials: Anthropic/OpenAI-style keys, bearer tokens, a URL with a password,
# "password=..." pairs, and long unbroken runs of key-like characters
_SECRET_SHAPES = re.compile(
    r"sk-[A-Za-z0-9_-]{8,}|bearer\s|://[^/\s:@]*:[^/\s@]+@|(pass(word)?|secret|token|key)\s*[=:]|[A-Za-z0-9+/_=-]{40,}",
    re.IGNORECASE,
)


def checked_name(field: str, value: str) -> str:
    """``value`` stripped, if it is a printable name of at most MAX_NAME characters
    with no secret in it; ValueError naming ``field`` otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"LLMCallRecord.{field} must be a string, got {value!r}")
    name = value.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise ValueError(f"LLMCallRecord.{field} must be a printable name of 1 to {MAX_NAME} characters")
    if _SECRET_SHAPES.search(name):
        # the value itself is not repeated: it may be the secret
        raise ValueError(f"LLMCallRecord.{field} looks like it holds a secret; it is not recorded")
    return name


def _first_name(field: str, *candidates: str | None) -> str:
    for candidate in candidates:
        if candidate:
            try:
                return checked_name(field, candidate)
            except ValueError:
                continue
    return UNKNOWN


def _git_email() -> str | None:
    try:
        done = subprocess.run(
            ["git", "config", "--get", "user.email"], capture_output=True, text=True, timeout=2, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _login() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (containers)
        return None


def current_user() -> str:
    """This process's user (see the module doc). ``ATTUNE_USER`` is read on every
    call, so a test or a long-running server sees a change; git is asked once, and
    each value is checked once (every call record asks)."""
    return _user_from(os.environ.get(USER_ENV))


@functools.lru_cache(maxsize=8)
def _user_from(attune_user: str | None) -> str:
    return _first_name("user", attune_user, *_fallback_users())


@functools.cache
def _fallback_users() -> tuple[str | None, str | None]:
    return _git_email(), _login()


@functools.cache
def current_machine() -> str:
    return _first_name("machine", socket.gethostname())
