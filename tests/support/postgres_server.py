"""A real, throw-away PostgreSQL for tests: its own cluster in a temp folder (initdb),
on 127.0.0.1 and a free port, stopped and removed afterwards. Stop it and start it
again (same folder, same port) to simulate an outage.

    with PostgresServer() as server:
        url = server.create_database("t1")     # postgresql://attunepg@127.0.0.1:<port>/t1

PostgreSQL refuses to run as root, so as root the cluster belongs to an unprivileged
user (``attunepg``, created if missing) and its commands run through ``runuser``.
``postgres_bin_dir()`` is None when Debian's ``postgresql`` package is missing, so the
fixtures skip with a clear reason, or fail in CI (ATTUNE_REQUIRE_POSTGRES=1).

The settings that make it start in a couple of seconds (fsync off and the like) are
for tests only.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from support.redis_server import free_port

PG_USER = "attunepg"
START_TIMEOUT_SECONDS = 60


def postgres_bin_dir() -> Path | None:
    """The folder with initdb and pg_ctl (Debian keeps them out of PATH)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


class PostgresServer:
    def __init__(self) -> None:
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        self.bin = bin_dir
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.user = PG_USER if self.as_root else _login()
        self.dir = Path(tempfile.mkdtemp(prefix="attune-pg-"))
        self.data = self.dir / "data"
        self.running = False

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if self.as_root:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=START_TIMEOUT_SECONDS + 30)

    def init(self) -> PostgresServer:
        if self.as_root:
            if subprocess.run(["id", self.user], capture_output=True, check=False).returncode != 0:
                subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", self.user], check=True)
            shutil.chown(self.dir, self.user)
        self.dir.chmod(0o700)
        done = self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "-N",
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        return self

    def start(self) -> PostgresServer:
        if self.running:
            return self
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", str(START_TIMEOUT_SECONDS),
            "-o", options, "start", check=False,
        )  # fmt: skip
        if done.returncode != 0:
            log = (
                (self.dir / "server.log").read_text(errors="replace")[-2000:]
                if (self.dir / "server.log").exists()
                else ""
            )
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()}\n{log}")
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-w", "stop", "-m", "fast", check=False)
            self.running = False

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.init().start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _login() -> str:
    import getpass

    return getpass.getuser()


# --- pytest fixtures (loaded through pytest_plugins in tests/conftest.py)

try:
    import pytest
except ImportError:  # the helper is usable without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:
    import itertools

    _database_names = itertools.count(1)

    def skip_or_fail_without_postgres() -> None:
        """Skip where PostgreSQL or psycopg is missing, except in CI
        (ATTUNE_REQUIRE_POSTGRES=1, set by .ci/run), where that must fail."""
        problems = []
        if postgres_bin_dir() is None:
            problems.append("PostgreSQL is not installed (Debian package postgresql; scripts/setup-dev.sh installs it)")
        try:
            import psycopg  # noqa: F401
        except ImportError:
            problems.append("psycopg is not installed (pip install -e '.[dev]')")
        if not problems:
            return
        if os.environ.get("ATTUNE_REQUIRE_POSTGRES"):
            pytest.fail("; ".join(problems))
        pytest.skip("; ".join(problems))

    @pytest.fixture(scope="session")
    def postgres_server():  # type: ignore[no-untyped-def]
        """One real PostgreSQL cluster for the test session."""
        skip_or_fail_without_postgres()
        with PostgresServer() as server:
            yield server

    @pytest.fixture
    def postgres_url(postgres_server: PostgresServer) -> str:
        """A new, empty database on the session's server (started again if a test stopped it)."""
        postgres_server.start()
        return postgres_server.create_database(f"attune_t{next(_database_names)}")
