"""`get_best_model` over 1,000,000 telemetry rows, beside the ways it could be done.

Target: median under 10 ms with 1,000,000 rows. One store, two stages asked:

- hot:     one stage holding half of all rows (the worst case for a window scan);
- typical: one of 19 other stages sharing the other half.

Rows span 29 days (inside the default 30-day retention); the router looks at 7.

Methods, all answering "per model: calls, successes, latency and cost in the window":

- AdaptiveModelRouter.get_best_model: the whole decision (hourly rollup for whole
  hours, raw rows for the partial hours at the edges, newest-10 per model, registry).
- SQL aggregate over raw rows, covering index: the design without the rollup, with
  the best index it could have (built for this benchmark only).
- Python lists (baseline): every row loaded once into lists, then filtered and
  summed per query (load time shown separately).

Run: python benchmarks/bench_router.py [--rows N] [--queries N] [--db PATH]
(``--db`` keeps the generated store between runs.)
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from attune.models.routing.router import AdaptiveModelRouter
from attune.models.telemetry.records import LLMCallRecord, to_epoch_ms
from attune.models.telemetry.store import TelemetryStore

MODELS = (
    ("cheap", "claude-haiku-4-5", 400.0, 0.001),
    ("capable", "claude-sonnet-4-6", 900.0, 0.008),
    ("premium", "claude-opus-4-6", 1500.0, 0.03),
)
SPAN_DAYS = 29
HOT = ("hot", "review")
TYPICAL = ("wf2", "stage3")


def pairs() -> list[tuple[str, str]]:
    others = [(f"wf{w}", f"stage{s}") for w in range(4) for s in range(5)]
    return [p for p in others if p != HOT][:19]


def build(path: Path, rows: int) -> None:
    """Half the rows in HOT, the rest spread over 19 stages, oldest first."""
    store = TelemetryStore(path)
    others = pairs()
    end = datetime.now(UTC)
    step = timedelta(days=SPAN_DAYS) / rows
    start = end - timedelta(days=SPAN_DAYS)
    batch: list[LLMCallRecord] = []
    for i in range(rows):
        workflow, stage = HOT if i % 2 == 0 else others[(i // 2) % len(others)]
        tier, model, latency, cost = MODELS[(i * 7 // 3) % 3]
        ok = (i * 13) % 17 != 0
        batch.append(
            LLMCallRecord(
                workflow=workflow,
                stage=stage,
                task_type=stage,
                provider="anthropic",
                tier=tier,
                model_id=model,
                success=ok,
                error_type=None if ok else "server",
                latency_ms=latency + (i % 200),
                tokens_input=1200,
                tokens_output=300,
                cost=cost,
                timestamp=start + step * i,
            )
        )
        if len(batch) == 10_000:
            store.record_calls(batch)
            batch.clear()
    store.record_calls(batch)
    store.close()


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()  # warm caches once
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def sql_over_raw(conn: sqlite3.Connection, workflow: str, stage: str, since_ms: int) -> list:
    return conn.execute(
        "SELECT model_id, provider, tier, COUNT(*), SUM(success), SUM(latency_ms), SUM(cost) "
        "FROM llm_calls INDEXED BY bench_covering WHERE workflow = ? AND stage = ? "
        "AND ts_ms >= ? GROUP BY model_id, provider, tier",
        (workflow, stage, since_ms),
    ).fetchall()


def load_lists(path: Path) -> dict[str, list]:
    conn = sqlite3.connect(path)
    cols: dict[str, list] = {k: [] for k in ("workflow", "stage", "ts_ms", "model_id", "success", "latency_ms", "cost")}
    for row in conn.execute(f"SELECT {', '.join(cols)} FROM llm_calls"):
        for key, value in zip(cols, row, strict=True):
            cols[key].append(value)
    conn.close()
    return cols


def python_filter(cols: dict[str, list], workflow: str, stage: str, since_ms: int) -> dict:
    sums: dict[str, list] = {}
    for wf, st, ts, model, ok, lat, cost in zip(
        cols["workflow"],
        cols["stage"],
        cols["ts_ms"],
        cols["model_id"],
        cols["success"],
        cols["latency_ms"],
        cols["cost"],
        strict=True,
    ):
        if wf == workflow and st == stage and ts >= since_ms:
            acc = sums.setdefault(model, [0, 0, 0.0, 0.0])
            acc[0] += 1
            acc[1] += ok
            acc[2] += lat
            acc[3] += cost
    return sums


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=101, help="timed runs per cell")
    parser.add_argument("--db", type=Path, help="reuse (or create) the store at this path")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "telemetry.db"
        if not path.exists():
            t0 = time.perf_counter()
            build(path, args.rows)
            print(f"built {args.rows:,} rows in {time.perf_counter() - t0:.1f} s")
        store = TelemetryStore(path)
        router = AdaptiveModelRouter(store)
        conn = sqlite3.connect(path)
        total = conn.execute("SELECT COUNT(*) FROM llm_calls").fetchone()[0]
        t0 = time.perf_counter()
        conn.execute(
            "CREATE INDEX IF NOT EXISTS bench_covering ON llm_calls "
            "(workflow, stage, ts_ms, model_id, provider, tier, success, latency_ms, cost)"
        )
        index_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        cols = load_lists(path)
        load_s = time.perf_counter() - t0

        since_ms = to_epoch_ms(datetime.now(UTC) - timedelta(days=7))
        results = []
        in_window = {}
        for name, (workflow, stage) in (("hot", HOT), ("typical", TYPICAL)):
            in_window[name] = conn.execute(
                "SELECT COUNT(*) FROM llm_calls WHERE workflow = ? AND stage = ? AND ts_ms >= ?",
                (workflow, stage, since_ms),
            ).fetchone()[0]
            results.append(
                (
                    name,
                    {
                        "router": timed(lambda wf=workflow, st=stage: router.get_best_model(wf, st), args.queries),
                        "sql": timed(lambda wf=workflow, st=stage: sql_over_raw(conn, wf, st, since_ms), args.queries),
                        "python": timed(
                            lambda wf=workflow, st=stage: python_filter(cols, wf, st, since_ms),
                            max(5, args.queries // 10),
                        ),
                    },
                )
            )
        conn.close()
        store.close()

    print(
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    print(
        f"{total:,} rows over {SPAN_DAYS} days; 7-day window holds {in_window['hot']:,} rows "
        f"of the hot stage, {in_window['typical']:,} of the typical one. Covering index built "
        f"in {index_s:.1f} s; Python lists loaded in {load_s:.1f} s (not in the query times).\n"
    )
    labels = {
        "router": "AdaptiveModelRouter.get_best_model (rollup + edges)",
        "sql": "SQL aggregate over raw rows (covering index, no rollup)",
        "python": "baseline: rows in Python lists, filtered per query",
    }
    print("| method | hot stage median ms | hot p95 ms | typical stage median ms | typical p95 ms |")
    print("|---|---:|---:|---:|---:|")
    by_stage = dict(results)
    for key, label in labels.items():
        hot, typical = by_stage["hot"][key], by_stage["typical"][key]
        print(f"| {label} | {hot[0]:.2f} | {hot[1]:.2f} | {typical[0]:.2f} | {typical[1]:.2f} |")


if __name__ == "__main__":
    main()
