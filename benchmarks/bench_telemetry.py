"""Telemetry inserts per second: the store beside a bare SQLite table, in one run.

Targets: >= 20,000 records/s batched, >= 2,000/s one by one. The store does
more per row than the baseline (three indexes, the hourly rollup trigger); the
baseline is the same file settings (WAL, synchronous=NORMAL) with a plain table and
no index, i.e. the ceiling for SQLite on this machine. Records are built before the
clock starts; the store's time includes turning them into rows.

Run: python benchmarks/bench_telemetry.py [--batched N] [--single N] [--batch-size N]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from attune.models.telemetry.records import LLMCallRecord
from attune.models.telemetry.store import TelemetryStore, _row


def make_records(n: int) -> list[LLMCallRecord]:
    start = datetime.now(UTC) - timedelta(days=1)
    models = (("cheap", "claude-haiku-4-5"), ("capable", "claude-sonnet-4-6"), ("premium", "claude-opus-4-6"))
    out = []
    for i in range(n):
        tier, model = models[i % 3]
        out.append(
            LLMCallRecord(
                workflow=f"wf{i % 4}",
                stage=f"stage{i % 5}",
                task_type="summarize",
                provider="anthropic",
                tier=tier,
                model_id=model,
                success=i % 11 != 0,
                error_type=None if i % 11 else "timeout",
                latency_ms=200.0 + i % 900,
                tokens_input=1000 + i % 500,
                tokens_output=200 + i % 100,
                cost=0.001 + (i % 7) / 1000,
                timestamp=start + timedelta(milliseconds=i * 50),
            )
        )
    return out


def bare_table(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE TABLE calls (ts_ms INTEGER, workflow TEXT, stage TEXT, task_type TEXT, "
        "provider TEXT, tier TEXT, model_id TEXT, success INTEGER, error_type TEXT, "
        "latency_ms REAL, tokens_input INTEGER, tokens_output INTEGER, cost REAL)"
    )
    return conn


BARE_INSERT = "INSERT INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batched", type=int, default=200_000, help="records inserted in batches")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--single", type=int, default=20_000, help="records inserted one by one")
    args = parser.parse_args()

    batched = make_records(args.batched)
    single = make_records(args.single)
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
            conn.executemany(BARE_INSERT, [_row(r) for r in batched[i : i + args.batch_size]])
            conn.execute("COMMIT")
        bare_batched = time.perf_counter() - t0
        conn.close()
        results.append(
            (
                f"batched ({args.batch_size}/transaction), {args.batched:,} records",
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
            conn.execute(BARE_INSERT, _row(r))
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
