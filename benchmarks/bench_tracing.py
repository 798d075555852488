"""What the OpenTelemetry spans and metrics cost a call, side by side with the call itself.

Per call, the tracing work one ``ResilientExecutor.run`` of one attempt does (the call
span, the attempt span, their attributes, the duration and token points), measured:

1. with no provider installed (the default: the API's no-op objects);
2. with the SDK's providers installed (a span processor into memory, an in-memory
   metric reader), as a host application would, minus the network;

and as the baseline in the same run, a bare SDK ``messages.create`` to the loopback
fake API (the cheapest real call there is). A loop of the same length doing nothing
gives the floor. The SDK is installed after step 1: OpenTelemetry sets a global
provider once per process. Run from the repository root: python benchmarks/bench_tracing.py

``--cli`` measures instead what export costs ``attune run explain`` (spawn to exit,
median of ``BENCH_RUNS``) against the realistic fake API: with
``OTEL_EXPORTER_OTLP_ENDPOINT`` naming a loopback collector that answers, one that
refuses connections, and, the baseline, no OTEL_* at all; interleaved in rounds.
"""

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import anthropic  # noqa: E402

from attune.models import get_model  # noqa: E402
from attune.models.llm import tracing  # noqa: E402
from support.fake_anthropic import TEST_API_KEY, FakeAnthropic, closed_port_url  # noqa: E402

N = int(os.environ.get("BENCH_N", "5000"))
CALLS = int(os.environ.get("BENCH_CALLS", "300"))
MODEL = get_model("anthropic", "capable").id


def one_call() -> None:
    """The tracing a resilient call of one successful attempt does."""
    with tracing.resilient_span(MODEL, "capable", "bench", "fix_bug", None) as call:
        with tracing.executor_span(MODEL, "capable", "bench", "fix_bug", None, 4096) as attempt:
            attempt.sending()
            attempt.succeeded(tracing.Usage(120, 30), 0.0008, MODEL, "msg_1", "end_turn")
        call.succeeded(MODEL, "capable", 0.0008, tracing.Usage(120, 30), MODEL, "closed")


def nothing() -> None:
    return None


def timed_us(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - t) / 1000)
    return out


async def bare_calls() -> list[float]:
    with FakeAnthropic() as fake:
        client = anthropic.AsyncAnthropic(api_key=TEST_API_KEY, base_url=fake.base_url, timeout=60, max_retries=0)
        times = []
        for i in range(CALLS + 20):
            t = time.perf_counter()
            await client.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}])
            if i >= 20:  # the first ones warm up the connection
                times.append((time.perf_counter() - t) * 1e6)
        await client.close()
    return times


def install_sdk() -> None:
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))


def row(name: str, xs: list[float]) -> str:
    xs = sorted(xs)
    return f"| {name} | {statistics.median(xs):.1f} | {xs[int(len(xs) * 0.95)]:.1f} |"


def main() -> None:
    for _ in range(200):  # warm up imports and caches
        one_call()
    floor = timed_us(nothing, N)
    no_provider = timed_us(one_call, N)
    bare = asyncio.run(bare_calls())
    install_sdk()
    for _ in range(200):
        one_call()
    with_sdk = timed_us(one_call, N)

    print(f"{N} traced calls each, {CALLS} bare SDK calls; {os.cpu_count()} CPUs")
    print("| per call | median µs | p95 µs |\n|---|---|---|")
    print(row("a loop doing nothing (floor)", floor))
    print(row("tracing, no provider installed (the default)", no_provider))
    print(row("tracing, SDK providers installed (in memory)", with_sdk))
    print(row("baseline: bare SDK messages.create, loopback fake API", bare))
    share = statistics.median(no_provider) / statistics.median(bare) * 100
    print(f"no provider: {share:.2f}% of the cheapest real call")


class _Collector(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()


def cli() -> None:
    runs = int(os.environ.get("BENCH_RUNS", "5"))
    home = tempfile.mkdtemp(prefix="attune-bench-")
    module = Path(home) / "shapes.py"
    module.write_text("def area(width, height):\n    return width * height\n" * 6, encoding="utf-8")
    collector = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    host, port = collector.server_address[:2]
    with FakeAnthropic(realistic=True) as fake:
        base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        base.update(ATTUNE_HOME=home, ANTHROPIC_API_KEY=TEST_API_KEY, ANTHROPIC_BASE_URL=fake.base_url)
        setups = {
            "no OTEL_* (baseline)": base,
            "collector answering": {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{host}:{port}"},
            "collector refusing": {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": closed_port_url()},
        }
        times: dict[str, list[float]] = {name: [] for name in setups}
        command = [sys.executable, "-m", "attune.cli", "run", "explain", str(module), "--yes"]
        for _ in range(runs):
            for name, env in setups.items():
                t = time.perf_counter()
                done = subprocess.run(command, env=env, capture_output=True, text=True)
                times[name].append((time.perf_counter() - t) * 1000)
                assert done.returncode == 0, done.stderr
    collector.shutdown()
    print(f"attune run explain, spawn to exit, median of {runs}; {os.cpu_count()} CPUs")
    print("| setup | median ms | max ms |\n|---|---|---|")
    for name, xs in times.items():
        print(f"| {name} | {statistics.median(xs):.0f} | {max(xs):.0f} |")


cli() if "--cli" in sys.argv else main()
