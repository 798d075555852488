"""What the CLI says about files it must not read (a FIFO, a device, a file too large
or binary) and about backups it cannot restore: one line of its own, never an
"unexpected error", never a hang."""

from __future__ import annotations

import json
import os
import resource
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev/zero")


def _limit_memory() -> None:
    # reading /dev/zero to the end would exhaust memory: keep that failure small
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def run(cmd, env, *args, cwd=None):
    return subprocess.run(
        [*cmd, *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
    )


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "unexpected error" not in stderr and "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(("name", "kind"), [("fifo.py", "a FIFO"), ("/dev/zero", "a character device")])
def test_recommend_refuses_a_fifo_or_a_device_in_one_line(attune_cmd, cli_env, tmp_path, name, kind):
    target = tmp_path / name if not name.startswith("/") else Path(name)
    if name == "fifo.py":
        os.mkfifo(target)
    r = run(attune_cmd, cli_env, "auth", "recommend", str(target))
    assert r.returncode == 2  # like a directory: not a FILE
    assert one_line(r.stderr) == f"attune: {target}: not a regular file ({kind})"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\x00" * 4096, "binary file"),
        (b"\x7fELF\x02\x01\x01" + bytes(range(32)) * 40, "binary file"),
        (b"x = 1\n" * 1_800_000, "10,800,000 bytes is over the 10,485,760-byte limit"),
    ],
    ids=["NUL bytes", "an executable", "over 10 MiB"],
)
def test_recommend_prints_the_line_counters_own_message(attune_cmd, cli_env, tmp_path, content, problem):
    source = tmp_path / "module.py"
    source.write_bytes(content)
    r = run(attune_cmd, cli_env, "auth", "recommend", str(source))
    assert r.returncode == 1
    line = one_line(r.stderr)
    assert line.startswith(f"attune: {source}: ") and problem in line


@pytest.mark.parametrize("kind", ["device", "fifo", "too large"])
def test_restore_of_a_backup_that_is_not_a_small_regular_file_is_refused_in_one_line(
    attune_cmd, cli_env, tmp_path, kind
):
    if kind == "device":
        backup, problem = Path("/dev/zero"), "not a regular file (a character device)"
    elif kind == "fifo":
        backup, problem = tmp_path / "backup.json", "not a regular file (a FIFO)"
        os.mkfifo(backup)
    else:
        backup = tmp_path / "backup.json"
        backup.write_text(json.dumps({"metadata": {"pad": "x" * (1024 * 1024)}}))
        problem = f"is {backup.stat().st_size:,} bytes; the limit is 1 MiB"
    r = run(attune_cmd, cli_env, "auth", "restore", str(backup))
    assert r.returncode == 1
    line = one_line(r.stderr)
    assert line.startswith(f"attune: {backup}: {problem}.")
    assert "attune auth restore --list" in line and "auth reset" not in line


def test_a_plain_restore_skips_an_invalid_newest_backup_and_says_so(attune_cmd, cli_env, attune_home):
    run(attune_cmd, cli_env, "auth", "setup", "--tier", "team")
    run(attune_cmd, cli_env, "auth", "reset", "--yes")
    (good,) = (attune_home / "backups").iterdir()
    bad = attune_home / "backups" / "auth_strategy-29990101T000000.000000Z.json"
    bad.write_text("{truncated")
    r = run(attune_cmd, cli_env, "auth", "restore")
    assert r.returncode == 0, r.stderr
    assert f"Skipped {bad.name}: is not valid JSON" in r.stdout
    assert f"from {good}" in r.stdout
    assert json.loads((attune_home / "auth_strategy.json").read_text())["subscription_tier"] == "team"


def test_a_plain_restore_with_no_valid_backup_fails_naming_each(attune_cmd, cli_env, attune_home):
    backups = attune_home / "backups"
    backups.mkdir()
    (backups / "auth_strategy-29990101T000000.000000Z.json").write_text("{truncated")
    (backups / "auth_strategy-29980101T000000.000000Z.json").write_text('{"default_mode": "sometimes"}')
    r = run(attune_cmd, cli_env, "auth", "restore")
    assert r.returncode == 1
    line = one_line(r.stderr)
    assert "auth_strategy-29990101T000000.000000Z.json: is not valid JSON" in line
    assert "auth_strategy-29980101T000000.000000Z.json: invalid strategy (default_mode" in line
    assert not (attune_home / "auth_strategy.json").exists()


@pytest.mark.parametrize("command", [("breaker", "status"), ("breaker", "reset")])
def test_a_store_url_with_a_nul_byte_is_a_usage_error(attune_cmd, cli_env, tmp_path, command):
    here = tmp_path / "here"
    here.mkdir()
    r = run(attune_cmd, cli_env, *command, "--store", "sqlite:///x%00y", cwd=here)
    assert r.returncode == 2
    assert "--store" in one_line(r.stderr) and "NUL" in r.stderr
    assert list(here.iterdir()) == []


def test_breaker_status_on_a_fifo_store_says_so_without_hanging(attune_cmd, cli_env, tmp_path):
    os.mkfifo(tmp_path / "breaker.db")
    r = run(attune_cmd, cli_env, "breaker", "status", "--store", f"sqlite:///{tmp_path}/breaker.db")
    assert r.returncode == 1
    assert "not a regular file (a FIFO)" in one_line(r.stderr)
