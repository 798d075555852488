"""A real, throw-away ``redis-server`` for tests: 127.0.0.1, a free port, a temp dir,
no persistence. Stop it and start it again on the same port to simulate an outage.

    with RedisServer() as server:
        client_url = server.url          # redis://127.0.0.1:<port>/0

    with RedisServer(unix_socket=True) as server:
        client_url = server.unix_url     # unix:///<temp dir>/redis.sock?db=0 (the port answers too)

A pytest fixture that uses it lives in the tests that need it (see
``tests/test_breaker_redis.py``); ``redis_server_binary()`` is None when the Debian
package ``redis-server`` is not installed, so fixtures can skip with a clear reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT_SECONDS = 10.0


def redis_server_binary() -> str | None:
    return shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, port: int | None = None, unix_socket: bool = False) -> None:
        binary = redis_server_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed (Debian: apt-get install redis-server)")
        self.binary = binary
        self.port = port or free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="attune-redis-")
        self.dir = Path(self._tmp.name)
        self.socket_path: Path | None = self.dir / "redis.sock" if unix_socket else None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def unix_url(self) -> str:
        if self.socket_path is None:
            raise RuntimeError("this server was started without a unix socket (RedisServer(unix_socket=True))")
        return f"unix://{self.socket_path}?db=0"

    def start(self) -> RedisServer:
        if self.process is not None and self.process.poll() is None:
            return self
        unix = [] if self.socket_path is None else ["--unixsocket", str(self.socket_path), "--unixsocketperm", "700"]
        for attempt in range(3):
            self.process = subprocess.Popen(
                [
                    self.binary,
                    *unix,
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--dir",
                    str(self.dir),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--protected-mode",
                    "yes",
                    "--loglevel",
                    "warning",
                    "--logfile",
                    str(self.dir / "redis.log"),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_ready():
                return self
            self.stop()
            if attempt < 2:
                self.port = free_port()  # someone else took the port between probe and start
        log = self.dir / "redis.log"
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"redis-server did not start on 127.0.0.1:{self.port}\n{detail}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    tcp_answers = sock.recv(64).startswith(b"+PONG")
                if tcp_answers and (self.socket_path is None or self._unix_answers()):
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def _unix_answers(self) -> bool:
        assert self.socket_path is not None
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            sock.connect(str(self.socket_path))
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def flushall(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(b"FLUSHALL\r\n")
            sock.recv(64)

    def close(self) -> None:
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- pytest fixtures (loaded through pytest_plugins in tests/conftest.py)

try:
    import pytest
except ImportError:  # the helper is usable without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    def skip_or_fail_without_redis() -> None:
        """Skip where redis-server is missing, except in CI (ATTUNE_REQUIRE_REDIS=1, set by
        .ci/run), where a missing server must fail rather than quietly skip the Redis tests."""
        if redis_server_binary() is not None:
            return
        message = "redis-server is not installed (Debian package redis-server; scripts/setup-dev.sh installs it)"
        if os.environ.get("ATTUNE_REQUIRE_REDIS"):
            pytest.fail(message)
        pytest.skip(message)

    @pytest.fixture(scope="session")
    def redis_server():  # type: ignore[no-untyped-def]
        """One real redis-server for the test session (skips if it is not installed)."""
        skip_or_fail_without_redis()
        with RedisServer() as server:
            yield server

    @pytest.fixture
    def redis_url(redis_server: RedisServer) -> str:
        """The session server's URL, emptied for this test."""
        redis_server.start()
        redis_server.flushall()
        return redis_server.url
