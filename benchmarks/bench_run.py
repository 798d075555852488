"""What `attune run` adds, beside its baselines in the same run.

1. Per stage, beyond the provider's latency: `execute_plan` of the 2-stage `explain`
   task against the loopback fake API (no delay, realistic token counts), with the
   shared SQLite breaker and telemetry store (the run, its stages and its calls
   recorded) and one executor (one SDK client) for all runs, minus two bare SDK
   `messages.create` calls sending the same two stages' requests. Runs and bare pairs are interleaved; medians.
2. `attune run document FILE --dry-run` on a 3,000-line file, spawn to exit (median),
   beside `python -c pass`. Target: under 300 ms.

Run: python benchmarks/bench_run.py [--runs N] [--spawns N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "core"))

from support.fake_anthropic import TEST_API_KEY, FakeAnthropic  # noqa: E402

SAMPLE = '''def parse(text):
    """key=value lines to a dict."""
    result = {}
    for line in text.splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            result[key.strip()] = value.strip()
    return result
'''


async def per_stage(fake: FakeAnthropic, sample: Path, runs: int) -> tuple[float, float, float]:
    import anthropic

    from attune.models.llm.executor import EmpathyLLMExecutor
    from attune.models.runs.runner import execute_plan, plan_run

    plan = plan_run("explain", sample, mode="api")
    client = anthropic.AsyncAnthropic(api_key=TEST_API_KEY, base_url=fake.base_url, max_retries=0)
    executor = EmpathyLLMExecutor()  # one SDK client for every run, as the bare calls have
    await execute_plan(plan, executor=executor)  # warm up; the bare calls send the requests this run sent
    requests = [r.body for r in fake.requests_to("/v1/messages")[-len(plan.task.stages) :]]
    for _ in range(5):
        for request in requests:
            await client.messages.create(**request)
    attune_ms, bare_ms = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = await execute_plan(plan, executor=executor)
        attune_ms.append((time.perf_counter() - t0) * 1000 / len(plan.task.stages))
        assert result.status == "ok", result.error
        t0 = time.perf_counter()
        for request in requests:
            await client.messages.create(**request)
        bare_ms.append((time.perf_counter() - t0) * 1000 / len(requests))
    await client.close()
    await executor.aclose()
    a, b = statistics.median(attune_ms), statistics.median(bare_ms)
    return a, b, a - b


def spawn_median(cmd: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200, help="runs of the 2-stage task (default 200)")
    parser.add_argument("--spawns", type=int, default=21, help="spawns of each command (default 21)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, FakeAnthropic(realistic=True) as fake:
        os.environ.update(ATTUNE_HOME=home, ANTHROPIC_API_KEY=TEST_API_KEY, ANTHROPIC_BASE_URL=fake.base_url)
        sample = Path(home) / "sample.py"
        sample.write_text(SAMPLE * 5)
        big = Path(home) / "big.py"
        big.write_text(SAMPLE * 375)  # 3,000 lines
        print(f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
        with_attune, bare, added = asyncio.run(per_stage(fake, sample, args.runs))
        print("| path | median ms per stage |\n|---|---:|")
        print(f"| bare SDK `messages.create` (the same requests) | {bare:.2f} |")
        print(f"| `execute_plan` (SQLite breaker, telemetry, run records) | {with_attune:.2f} |")
        print(f"| added by Attune | {added:.2f} |\n")
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'core'}{os.pathsep}{ROOT / 'server'}"}
        dry = [sys.executable, "-m", "attune.cli", "run", "document", str(big), "--dry-run"]
        rows = [
            ("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
            ("attune run document --dry-run (3,000 lines)", dry),
        ]
        print(f"| command | median ms ({args.spawns} spawns) |\n|---|---:|")
        for label, cmd in rows:
            print(f"| {label} | {spawn_median(cmd, env, args.spawns):.0f} |")


if __name__ == "__main__":
    main()
