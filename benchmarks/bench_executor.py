"""Executor overhead against the local fake API, side by side with the bare SDK.

Per call: bare AsyncAnthropic.messages.create vs EmpathyLLMExecutor.run with the
shared SQLite breaker and telemetry store (ATTUNE_HOME in a temp dir). Both talk to the
same loopback fake server, interleaved in rounds so machine noise hits both alike.
Run from the repository root: python benchmarks/bench_executor.py
"""

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ["ATTUNE_HOME"] = tempfile.mkdtemp(prefix="attune-bench-")
os.environ.pop("ATTUNE_BREAKER_URL", None)

import anthropic  # noqa: E402

from attune.models import EmpathyLLMExecutor, count_tokens, get_model  # noqa: E402
from support.fake_anthropic import TEST_API_KEY, FakeAnthropic  # noqa: E402

N = int(os.environ.get("BENCH_N", "300"))
MODEL = get_model("anthropic", "capable").id


async def main() -> None:
    with FakeAnthropic() as fake:
        bare = anthropic.AsyncAnthropic(api_key=TEST_API_KEY, base_url=fake.base_url, timeout=60, max_retries=0)
        ex = EmpathyLLMExecutor(api_key=TEST_API_KEY, base_url=fake.base_url)
        bare_t, ex_t = [], []
        for _ in range(20):  # warm up both paths (imports, connections, SQLite files)
            await bare.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}])
            await ex.run("fix_bug", "hi")
        for _ in range(N):
            t = time.perf_counter()
            await bare.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}])
            bare_t.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            r = await ex.run("fix_bug", "hi")
            ex_t.append((time.perf_counter() - t) * 1000)
            assert r.success, r.error
        await bare.close()
        await ex.aclose()

        sync_bare = anthropic.Anthropic(api_key=TEST_API_KEY, base_url=fake.base_url, timeout=10, max_retries=0)
        ct_bare, ct_ours = [], []
        for _ in range(N):
            t = time.perf_counter()
            sync_bare.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "a b c"}])
            ct_bare.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            count_tokens("a b c", api_key=TEST_API_KEY, base_url=fake.base_url)
            ct_ours.append((time.perf_counter() - t) * 1000)
        sync_bare.close()

    def row(name, xs):
        xs = sorted(xs)
        return f"| {name} | {statistics.median(xs):.2f} | {xs[int(len(xs) * 0.95)]:.2f} |"

    print(f"{N} calls each, interleaved; {os.cpu_count()} CPUs")
    print("| path | median ms | p95 ms |\n|---|---|---|")
    print(row("bare SDK messages.create", bare_t))
    print(row("EmpathyLLMExecutor.run (SQLite breaker + telemetry)", ex_t))
    print(row("bare SDK messages.count_tokens", ct_bare))
    print(row("count_tokens (SQLite breaker)", ct_ours))
    print(f"executor overhead, median: {statistics.median(ex_t) - statistics.median(bare_t):.2f} ms")
    print(f"count_tokens overhead, median: {statistics.median(ct_ours) - statistics.median(ct_bare):.2f} ms")


asyncio.run(main())
