"""A team's telemetry in PostgreSQL beside the same calls in SQLite, in one run.

Targets (1,000,000 calls of a team's month, benchmarks/telemetry_world.py):

- batched inserts into PostgreSQL: >= 20,000 records/s (the outbox's path: COPY into a
  temporary table, then INSERT ... ON CONFLICT (uid) DO NOTHING, batches of 5,000);
  baseline: COPY into a bare table with no index, no uid and no rollup;
- ``get_best_model`` over 1,000,000 rows in PostgreSQL: median < 10 ms; beside it the
  same query on the SQLite store holding the same calls;
- ``attune spend --by user`` over 1,000,000 rows: < 500 ms, spawn to answer; beside it
  ``python -c pass`` (the interpreter's own start) and a SQL GROUP BY over the raw rows;
- writes while the server is down: each ``record_call`` goes to the outbox and returns
  (target: never slower than 0.5 s); beside it the same writes while the server is up.

The server is a throw-away cluster (tests/support/postgres_server.py: initdb, fsync
off) unless ``--url`` names one. Never time this on a busy machine.

Run: python benchmarks/bench_telemetry_team.py [--rows N] [--queries N] [--url URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the throw-away PostgreSQL

from bench_router import timed  # the same median and p95 as the SQLite router's benchmark
from telemetry_world import batches, busiest_and_typical, combinations, team_calls

from attune.models.routing.router import AdaptiveModelRouter
from attune.models.telemetry.outbox import OutboxedTelemetry
from attune.models.telemetry.postgres import PostgresTelemetryStore
from attune.models.telemetry.queries import CALL_COLUMNS, call_row
from attune.models.telemetry.records import LLMCallRecord
from attune.models.telemetry.store import TelemetryStore

PG_BATCH = 5_000
SQLITE_BATCH = 1_000


def spawn_ms(argv: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def pg_bare_copy(url: str, calls: list[LLMCallRecord]) -> float:
    """Seconds to COPY the calls into a table with no index: the ceiling."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(f"CREATE TABLE bench_bare ({CALL_COLUMNS.replace(',', ' TEXT,')} TEXT)")
        conn.commit()
        t0 = time.perf_counter()
        for batch in batches(calls, PG_BATCH):
            with conn.cursor().copy(f"COPY bench_bare ({CALL_COLUMNS}) FROM STDIN") as copy:
                for c in batch:
                    copy.write_row(call_row(c))
            conn.commit()
        seconds = time.perf_counter() - t0
        conn.execute("DROP TABLE bench_bare")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=101, help="timed runs per cell")
    parser.add_argument("--url", help="an empty PostgreSQL database to use instead of a throw-away cluster")
    args = parser.parse_args()

    server = None
    if args.url is None:
        from support.postgres_server import PostgresServer

        server = PostgresServer().init().start()
        url = server.create_database("bench")
    else:
        url = args.url
    tmp = tempfile.TemporaryDirectory()
    os.environ["ATTUNE_HOME"] = tmp.name  # the outbox and any state go here
    try:
        t0 = time.perf_counter()
        calls = team_calls(args.rows)
        built_s = time.perf_counter() - t0
        hot, typical = busiest_and_typical(calls)
        results: list[tuple[str, str, str, str]] = []

        # --- inserts -------------------------------------------------------------
        pg = PostgresTelemetryStore(url, retention_days=None)
        t0 = time.perf_counter()
        for batch in batches(calls, PG_BATCH):
            pg.insert_rows([(i, uuid.uuid4().hex, call_row(c)) for i, c in enumerate(batch)])
        pg_insert_s = time.perf_counter() - t0
        bare_s = pg_bare_copy(url, calls)
        results.append(
            (
                f"PostgreSQL batched inserts ({PG_BATCH:,}/transaction), {len(calls):,} records",
                f"{len(calls) / pg_insert_s:,.0f}/s",
                f"COPY into a bare table: {len(calls) / bare_s:,.0f}/s",
                ">= 20,000/s",
            )
        )
        sqlite_path = Path(tmp.name) / "telemetry.db"
        lite = TelemetryStore(sqlite_path, retention_days=None)
        t0 = time.perf_counter()
        for batch in batches(calls, SQLITE_BATCH):
            lite.record_calls(batch)
        lite_insert_s = time.perf_counter() - t0
        results.append(
            (
                f"SQLite batched inserts ({SQLITE_BATCH:,}/transaction), same records",
                f"{len(calls) / lite_insert_s:,.0f}/s",
                "(PostgreSQL above)",
                ">= 20,000/s",
            )
        )

        # --- get_best_model ------------------------------------------------------
        pg_router, lite_router = AdaptiveModelRouter(pg), AdaptiveModelRouter(lite)
        for name, (workflow, stage) in (("busiest stage", hot), ("median stage", typical)):
            pg_med, pg_p95 = timed(lambda w=workflow, s=stage: pg_router.get_best_model(w, s), args.queries)
            lite_med, _ = timed(lambda w=workflow, s=stage: lite_router.get_best_model(w, s), args.queries)
            results.append(
                (
                    f"`get_best_model`, {len(calls):,} rows, the {name} (median; p95 {pg_p95:.2f} ms)",
                    f"{pg_med:.2f} ms",
                    f"SQLite, same calls: {lite_med:.2f} ms",
                    "< 10 ms",
                )
            )

        # --- attune spend --by user ----------------------------------------------
        env = {**os.environ, "ATTUNE_TELEMETRY_URL": url}
        argv = [sys.executable, "-m", "attune.cli", "spend", "--by", "user", "--since", "2000-01-01"]
        spend_ms = spawn_ms(argv, env, 7)
        lite_env = {**os.environ, "ATTUNE_TELEMETRY_URL": str(sqlite_path)}
        lite_spend_ms = spawn_ms(argv, lite_env, 7)
        python_ms = spawn_ms([sys.executable, "-c", "pass"], env, 7)
        import psycopg

        with psycopg.connect(url) as conn:
            raw_ms, _ = timed(
                lambda: conn.execute(
                    "SELECT user_name, COUNT(*), SUM(cost) FROM llm_calls GROUP BY user_name"
                ).fetchall(),
                5,
            )
        results.append(
            (
                f"`attune spend --by user`, {len(calls):,} rows in PostgreSQL, spawn to answer (median)",
                f"{spend_ms:.0f} ms",
                f"`python -c pass`: {python_ms:.0f} ms; GROUP BY over the raw rows alone: {raw_ms:.0f} ms; "
                f"SQLite store: {lite_spend_ms:.0f} ms",
                "< 500 ms",
            )
        )

        # --- writes while the server is down -------------------------------------
        writes = team_calls(2_000, seed=3)
        outboxed = OutboxedTelemetry.for_url(url)
        up = []
        for c in writes[:1000]:
            t0 = time.perf_counter()
            outboxed.record_call(c)
            up.append((time.perf_counter() - t0) * 1000)
        outboxed.flush(timeout=60)
        down = []
        if server is not None:
            server.stop()
            for c in writes[1000:]:
                t0 = time.perf_counter()
                outboxed.record_call(c)
                down.append((time.perf_counter() - t0) * 1000)
            server.start()
            delivered = outboxed.flush(timeout=120)
            results.append(
                (
                    "`record_call` while PostgreSQL is down, 1,000 calls (max; median)",
                    f"{max(down):.1f} ms; {statistics.median(down):.2f} ms",
                    f"server up: {max(up):.1f} ms; {statistics.median(up):.2f} ms",
                    "< 500 ms",
                )
            )
            assert delivered, "the outbox did not empty after the restart"
        outboxed.close(flush_seconds=0)
        total = pg.count()
        pg.close()
        lite.close()
    finally:
        if server is not None:
            server.close()
        tmp.cleanup()

    print(
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, PostgreSQL {'(given)' if args.url else 'throw-away cluster, fsync off'}"
    )
    print(
        f"{len(calls):,} calls built in {built_s:.1f} s: {combinations(calls):,} workflow x stage x model "
        f"combinations, busiest stage {hot}, median stage {typical}; {total:,} rows on the server at the end.\n"
    )
    print("| what | figure | baseline, same run | target |")
    print("|---|---:|---|---:|")
    for row in results:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
