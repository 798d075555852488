"""Latency of the circuit breaker's calls on each store, side by side in one run.

    python benchmarks/bench_breaker.py [--n 5000] [--no-redis] [--full-sync] [--dir DIR]
    python benchmarks/bench_breaker.py --locked [--n 200] [--dir DIR]

The memory store is the baseline (a dict behind a lock); SQLite is what every process
on the machine shares by default (target: median under 1 ms); Redis runs on a
throw-away local redis-server (loopback, so this is the floor of a networked Redis).
Prints a Markdown table of the median and p95 per call, in microseconds.

``--locked`` measures SQLite while another process holds the file's write lock
(``BEGIN EXCLUSIVE``, as a hung writer or a backup would): the same calls with the file
unlocked are the baseline, in the same run; median and max per call, in milliseconds.
The promise is an answer within 0.5 s.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # redis_server helper

from attune.models import CircuitBreaker
from attune.models.breaker.stores import BreakerStore
from attune.models.breaker.stores.sqlite import SQLiteBreakerStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def timed(fn: Callable[[], object], n: int) -> list[float]:
    """Per-call latencies in microseconds."""
    out = []
    for _ in range(n):
        t = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - t) / 1000)
    return out


class FullSyncSQLiteStore(SQLiteBreakerStore):
    """For comparison only: fsync on every commit (what synchronous=NORMAL avoids)."""

    def _prepare(self, conn: sqlite3.Connection) -> None:
        super()._prepare(conn)
        conn.execute("PRAGMA synchronous = FULL")


def bench_store(store: str | BreakerStore, n: int) -> dict[str, list[float]]:
    clock = Clock()
    cb = CircuitBreaker(store=store, clock=clock)
    cb.reset()
    results: dict[str, list[float]] = {}
    for _ in range(200):  # warm up connections and script caches
        cb.is_available("anthropic", "cheap")
        cb.record_failure("warmup")
        cb.record_success("warmup")

    results["is_available (closed)"] = timed(lambda: cb.is_available("anthropic", "cheap"), n)

    for _ in range(5):
        cb.record_failure("anthropic", "premium")
    results["is_available (open)"] = timed(lambda: cb.is_available("anthropic", "premium"), n)
    results["peek_state"] = timed(lambda: cb.peek_state("anthropic", "premium"), n)

    # Alternate failure/success on one key, so each call really writes.
    fail, succeed = [], []
    for _ in range(n):
        fail += timed(lambda: cb.record_failure("anthropic", "capable", error_type="server"), 1)
        succeed += timed(lambda: cb.record_success("anthropic", "capable"), 1)
    results["record_failure"] = fail
    results["record_success (clears a failure)"] = succeed
    results["record_success (nothing to clear)"] = timed(lambda: cb.record_success("anthropic", "cheap"), n)

    # Half-open probe: each round the clock passes retry_at, one caller takes the
    # permit (a write transaction) and the probe fails (reopens).
    probe = []
    for _ in range(n):
        clock.now += 61
        probe += timed(lambda: cb.is_available("anthropic", "premium"), 1)
        cb.record_failure("anthropic", "premium")
    results["is_available (half-open, takes the permit)"] = probe
    results["change_token"] = timed(cb.change_token, n)
    cb.close()
    return results


_LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


class Locker:
    """Another process holding BEGIN EXCLUSIVE on the file while the block runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Locker:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LOCKER, str(self.path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "locked"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        self.process.wait(timeout=30)


def bench_locked_calls(path: Path, n: int, status_runs: int) -> dict[str, list[float]]:
    """Per-call latencies in ms of what a process does with the shared SQLite file."""
    url = f"sqlite:///{path}"
    clock = Clock()
    results: dict[str, list[float]] = {}

    def fresh(op: Callable[[CircuitBreaker], object]) -> list[float]:
        # A new process's first call: a new store, so a new connection and schema check.
        out = []
        for _ in range(max(n // 10, 5)):
            cb = CircuitBreaker(store=url, clock=clock)
            out += timed(functools.partial(op, cb), 1)
            cb.close()
        return out

    results["a new process's first is_available"] = fresh(lambda cb: cb.is_available("anthropic", "cheap"))
    results["a new process's first record_failure"] = fresh(lambda cb: cb.record_failure("anthropic", "fresh"))
    cb = CircuitBreaker(store=url, clock=clock)
    cb.peek_state("anthropic", "premium")  # connected before the first timed call
    results["is_available (closed)"] = timed(lambda: cb.is_available("anthropic", "cheap"), n)
    results["is_available (open)"] = timed(lambda: cb.is_available("anthropic", "premium"), n)
    results["peek_state"] = timed(lambda: cb.peek_state("anthropic", "premium"), n)
    results["record_failure"] = timed(lambda: cb.record_failure("anthropic", "capable", error_type="server"), n)
    results["record_success (clears a failure)"] = timed(lambda: cb.record_success("anthropic", "capable"), n)
    probe = []
    for _ in range(n):
        clock.now += 61
        probe += timed(lambda: cb.is_available("anthropic", "premium"), 1)
        cb.record_failure("anthropic", "premium")
    results["is_available (half-open, takes the permit)"] = probe
    results["change_token"] = timed(cb.change_token, n)
    cb.close()
    status = [sys.executable, "-m", "attune.cli", "breaker", "status", "--store", url]
    results["`attune breaker status` (spawn to exit)"] = timed(
        lambda: subprocess.run(status, capture_output=True, check=False), status_runs
    )
    return {op: [us / 1000 for us in values] for op, values in results.items()}


def bench_locked(n: int, directory: str | None) -> int:
    # The breaker's WARNING about the locked store (one per new process) is expected here.
    logging.getLogger("attune.models.breaker").setLevel(logging.ERROR)
    tmp = tempfile.TemporaryDirectory(prefix="attune-bench-breaker-locked-", dir=directory)
    path = Path(tmp.name) / "breaker.db"
    opener = CircuitBreaker(store=f"sqlite:///{path}", clock=Clock())
    for _ in range(5):
        opener.record_failure("anthropic", "premium")
    opener.close()
    try:
        unlocked = bench_locked_calls(path, n, 5)
        with Locker(path):
            locked = bench_locked_calls(path, n, 5)
    finally:
        tmp.cleanup()
    print(
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; {n} calls per operation ({max(n // 10, 5)} new processes, "
        f"5 status runs); times in ms (median / max)\n"
    )
    print("| call | unlocked (baseline) | another process holds BEGIN EXCLUSIVE |")
    print("|---|---:|---:|")
    for op in unlocked:
        cells = [f"{statistics.median(r[op]):.3f} / {max(r[op]):.3f}" for r in (unlocked, locked)]
        print(f"| {op} | " + " | ".join(cells) + " |")
    worst = max(max(v) for op, v in locked.items() if not op.startswith("`"))
    verdict = "keeps" if worst < 500 else "BREAKS"
    print(f"\nLocked: the slowest breaker call took {worst:.1f} ms — {verdict} the 0.5 s promise.")
    return 0


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="calls per operation (default 5000)")
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis store")
    parser.add_argument(
        "--full-sync", action="store_true", help="also run SQLite with synchronous=FULL (an fsync per commit)"
    )
    parser.add_argument(
        "--dir",
        help="where to put the SQLite files (default: the temp dir; "
        "use a directory on the disk your state dir lives on)",
    )
    parser.add_argument(
        "--locked",
        action="store_true",
        help="measure SQLite while another process holds its write lock (default --n 200)",
    )
    args = parser.parse_args()
    if args.locked:
        return bench_locked(args.n if "--n" in sys.argv else 200, args.dir)

    stores: dict[str, str | BreakerStore] = {"memory (baseline)": "memory://"}
    tmp = tempfile.TemporaryDirectory(prefix="attune-bench-breaker-", dir=args.dir)
    stores["sqlite"] = f"sqlite:///{tmp.name}/breaker.db"
    if args.full_sync:
        stores["sqlite, synchronous=FULL"] = FullSyncSQLiteStore(f"{tmp.name}/full.db")
    server = None
    if not args.no_redis:
        from redis_server import RedisServer, redis_server_binary

        if redis_server_binary():
            server = RedisServer().start()
            stores["redis (loopback)"] = server.url
        else:
            print("redis-server not installed: skipping Redis", file=sys.stderr)
    try:
        all_results = {name: bench_store(url, args.n) for name, url in stores.items()}
    finally:
        if server is not None:
            server.close()
        tmp.cleanup()

    ops = list(next(iter(all_results.values())))
    names = list(all_results)
    print(
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; {args.n} calls per operation; times in µs "
        f"(median / p95)\n"
    )
    print("| operation | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for op in ops:
        cells = [f"{statistics.median(all_results[s][op]):.1f} / {pct(all_results[s][op], 95):.1f}" for s in names]
        print(f"| {op} | " + " | ".join(cells) + " |")
    sqlite_worst = max(statistics.median(v) for v in all_results["sqlite"].values())
    verdict = "meets" if sqlite_worst < 1000 else "MISSES"
    print(f"\nSQLite: slowest median {sqlite_worst:.1f} µs — {verdict} the 1 ms target.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
