"""Who a call record names: ATTUNE_USER, else git's user.email, else the login name;
the machine is the host name; a value that looks like a secret is never recorded."""

from __future__ import annotations

import getpass
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from attune.models import LLMCallRecord
from attune.models.telemetry.store import TelemetryStore

SHOW = (
    "import json; from attune.models import LLMCallRecord;"
    "r = LLMCallRecord('w', 's', 't', 'anthropic', 'cheap', 'm', True);"
    "print(json.dumps([r.user, r.machine]))"
)


def identity_in_a_process(tmp_path: Path, attune_user: str | None, git_email: str | None) -> tuple[str, str]:
    """(user, machine) as a fresh process with this environment records them."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(f"[user]\n\temail = {git_email}\n" if git_email else "")
    env = {k: v for k, v in os.environ.items() if k != "ATTUNE_USER"}
    env.update(HOME=str(home), GIT_CONFIG_GLOBAL=str(gitconfig), GIT_CONFIG_NOSYSTEM="1")
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    if attune_user is not None:
        env["ATTUNE_USER"] = attune_user
    done = subprocess.run(
        [sys.executable, "-c", SHOW], env=env, cwd=tmp_path, capture_output=True, text=True, check=True, timeout=60
    )
    user, machine = json.loads(done.stdout)
    return user, machine


def test_attune_user_then_git_email_then_the_login_name(tmp_path: Path) -> None:
    assert identity_in_a_process(tmp_path, "ada@team.example", "git@example.com")[0] == "ada@team.example"
    assert identity_in_a_process(tmp_path, None, "git@example.com")[0] == "git@example.com"
    assert identity_in_a_process(tmp_path, None, None)[0] == getpass.getuser()
    assert identity_in_a_process(tmp_path, None, None)[1] == socket.gethostname()


@pytest.mark.parametrize(
    "secret",
    [
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "postgresql://ada:hunter2@db.example/attune",
        "password=hunter2",
        "Bearer eyJhbGciOiJIUzI1NiJ9",
    ],
)
def test_a_user_that_looks_like_a_secret_is_not_recorded(tmp_path: Path, secret: str) -> None:
    user, _ = identity_in_a_process(tmp_path, secret, "git@example.com")
    assert user == "git@example.com"  # the next source instead
    with pytest.raises(ValueError, match="looks like it holds a secret") as caught:
        LLMCallRecord("w", "s", "t", "anthropic", "cheap", "m", True, user=secret)
    assert secret not in str(caught.value)


def test_who_and_where_are_stored_with_the_call(tmp_path: Path) -> None:
    with TelemetryStore(tmp_path / "t.db") as store:
        store.record_call(LLMCallRecord("w", "s", "t", "anthropic", "cheap", "m", True, user="ada", machine="ci-3"))
        [read] = store.recent_calls("w")
    assert (read.user, read.machine) == ("ada", "ci-3")
