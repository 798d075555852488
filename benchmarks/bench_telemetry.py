"""Telemetry inserts per second: the SQLite store beside a bare SQLite table, in one run.

Targets: >= 20,000 records/s batched, >= 2,000/s one by one, with a realistic spread
of keys (benchmarks/telemetry_world.py: 1,050 workflow x stage x model combinations,
Zipf-distributed, 20 users, time-ordered). The store does more per row than the
baseline (three indexes, the hourly and daily rollup triggers); the baseline is the
same file settings (WAL, synchronous=NORMAL) with a plain table and no index, i.e. the
ceiling for SQLite on this machine. Records are built before the clock starts; the
store's time includes turning them into rows.

Run: python benchmarks/bench_telemetry.py [--batched N] [--single N] [--batch-size N]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from telemetry_world import combinations, team_calls

from attune.models.telemetry.queries import CALL_COLUMNS, call_row
from attune.models.telemetry.store import TelemetryStore


def bare_table(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"CREATE TABLE calls ({CALL_COLUMNS})")
    return conn


BARE_INSERT = f"INSERT INTO calls VALUES ({', '.join('?' * len(CALL_COLUMNS.split(',')))})"


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batched", type=int, default=200_000, help="records inserted in batches")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--single", type=int, default=20_000, help="records inserted one by one")
    args = parser.parse_args()

    batched = team_calls(args.batched)
    single = team_calls(args.single, seed=2)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        results = []

        store = TelemetryStore(tmp_path / "store-batched.db")
        t0 = time.perf_counter()
        for i in range(0, len(batched), args.batch_size):
            store.record_calls(batched[i : i + args.batch_size])
        store_batched = time.perf_counter() - t0
        store.close()

        conn = bare_table(tmp_path / "bare-batched.db")
        t0 = time.perf_counter()
        for i in range(0, len(batched), args.batch_size):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(BARE_INSERT, [call_row(r) for r in batched[i : i + args.batch_size]])
            conn.execute("COMMIT")
        bare_batched = time.perf_counter() - t0
        conn.close()
        results.append(
            (
                f"batched ({args.batch_size}/transaction), {args.batched:,} records, "
                f"{combinations(batched):,} workflow x stage x model combinations",
                rate(args.batched, store_batched),
                rate(args.batched, bare_batched),
                ">= 20,000",
            )
        )

        store = TelemetryStore(tmp_path / "store-single.db")
        t0 = time.perf_counter()
        for r in single:
            store.record_call(r)
        store_single = time.perf_counter() - t0
        store.close()

        conn = bare_table(tmp_path / "bare-single.db")
        t0 = time.perf_counter()
        for r in single:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(BARE_INSERT, call_row(r))
            conn.execute("COMMIT")
        bare_single = time.perf_counter() - t0
        conn.close()
        results.append(
            (
                f"one by one (1/transaction), {args.single:,} records",
                rate(args.single, store_single),
                rate(args.single, bare_single),
                ">= 2,000",
            )
        )

    print(
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}\n"
    )
    print("| inserts | TelemetryStore records/s | baseline: bare table records/s | target |")
    print("|---|---:|---:|---:|")
    for row in results:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
