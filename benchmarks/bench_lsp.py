"""Language server speed, side by side with a minimal pygls server in the same run.

    python benchmarks/bench_lsp.py [--runs 7]

Prints a Markdown table:
- spawn -> `initialize` result (median of --runs), attune-lsp vs benchmarks/minimal_pygls_server.py,
  and attune-lsp without its cache of attrs's generated methods (ATTUNE_LSP_NO_ATTRS_CACHE=1);
- lenses for a 10,000-line Python file: first answer (didOpen + codeLens) and repeated (median);
- lenses for a 100,000-line file, and the latency of other requests (lenses of a small
  cached document) sent while it is being counted;
- resident memory (VmRSS) when idle, both servers.

The files are real Python: standard-library modules concatenated to the line count.
Everything runs in a temporary ATTUNE_HOME, with byte-code written as by default
(PYTHONDONTWRITEBYTECODE is dropped: the warm-up start writes the caches). A tiny LSP client (stdlib only) talks
to the servers over pipes, so the figures include the JSON-RPC round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ATTUNE = [sys.executable, "-m", "attune.lsp"]
MINIMAL = [sys.executable, str(HERE / "minimal_pygls_server.py")]


class Client:
    """Just enough LSP over stdio: requests, notifications, and null answers to the
    server's own requests (workspace/codeLens/refresh)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self._next_id = 0
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._reader = asyncio.ensure_future(self._read_loop())

    @classmethod
    async def spawn(cls, command: list[str], env: dict[str, str]) -> Client:
        proc = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
        )
        return cls(proc)

    def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def _read_loop(self) -> None:
        out = self.proc.stdout
        while True:
            length = 0
            while True:
                line = await out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            message = json.loads(await out.readexactly(length))
            if "method" in message and "id" in message:  # a request from the server
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message and message["id"] in self._waiting:
                self._waiting.pop(message["id"]).set_result(message)

    async def request(self, method: str, params: Any) -> Any:
        self._next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[self._next_id] = future
        self._write({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        reply = await future
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    async def initialize(self) -> Any:
        result = await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": None,
                "capabilities": {"workspace": {"codeLens": {"refreshSupport": True}}},
            },
        )
        self.notify("initialized", {})
        return result

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.request("shutdown", None), 10)
            self.notify("exit", None)
            await asyncio.wait_for(self.proc.wait(), 10)
        except (TimeoutError, RuntimeError, ConnectionError):
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def python_text(lines: int) -> str:
    """Real code: standard-library modules, concatenated until ``lines`` lines."""
    out: list[str] = []
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(stdlib.glob("*.py")):
        out.extend(path.read_text(encoding="utf-8", errors="replace").splitlines())
        if len(out) >= lines:
            break
    while len(out) < lines:
        out.extend(out[: lines - len(out)])
    return "\n".join(out[:lines]) + "\n"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


async def time_startup(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(spawn -> initialize result, idle RSS in MB after 1 s)."""
    start = time.perf_counter()
    client = await Client.spawn(command, env)
    await client.initialize()
    elapsed = time.perf_counter() - start
    await asyncio.sleep(1.0)
    rss = client.rss_mb()
    await client.close()
    return elapsed, rss


def open_doc(client: Client, uri: str, text: str) -> None:
    client.notify(
        "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}
    )


async def lenses(client: Client, uri: str) -> list[Any]:
    return await client.request("textDocument/codeLens", {"textDocument": {"uri": uri}})


async def bench_lenses(env: dict[str, str], workdir: Path) -> dict[str, Any]:
    client = await Client.spawn(ATTUNE, env)
    await client.initialize()
    try:
        small_uri = (workdir / "small.py").as_uri()
        open_doc(client, small_uri, python_text(50))
        await lenses(client, small_uri)  # warm: imports of the core happen here, once

        uri10 = (workdir / "ten_thousand.py").as_uri()
        text10 = python_text(10_000)
        start = time.perf_counter()
        open_doc(client, uri10, text10)
        first = await lenses(client, uri10)
        first_10k = time.perf_counter() - start
        repeated = []
        for _ in range(30):
            t = time.perf_counter()
            await lenses(client, uri10)
            repeated.append(time.perf_counter() - t)

        idle_other = []  # lenses of another (cached) document: the request an editor keeps sending
        for _ in range(20):
            t = time.perf_counter()
            await lenses(client, small_uri)
            idle_other.append(time.perf_counter() - t)

        uri100 = (workdir / "hundred_thousand.py").as_uri()
        text100 = python_text(100_000)
        start = time.perf_counter()
        open_doc(client, uri100, text100)
        big = asyncio.ensure_future(lenses(client, uri100))
        during: list[float] = []
        while not big.done():
            t = time.perf_counter()
            await lenses(client, small_uri)
            during.append(time.perf_counter() - t)
            await asyncio.sleep(0.01)
        big_lenses = await big
        first_100k = time.perf_counter() - start
        rss_after = client.rss_mb()
    finally:
        await client.close()
    return {
        "first_10k": first_10k,
        "repeated_10k": statistics.median(repeated),
        "first_100k": first_100k,
        "idle_other": statistics.median(idle_other),
        "during_other_median": statistics.median(during) if during else float("nan"),
        "during_other_max": max(during) if during else float("nan"),
        "during_count": len(during),
        "title_10k": first[0]["command"]["title"],
        "title_100k": big_lenses[0]["command"]["title"],
        "rss_after_mb": rss_after,
    }


async def main_async(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = {**os.environ, "ATTUNE_HOME": str(workdir / "home")}
        for name in ("ANTHROPIC_API_KEY", "PYTHONDONTWRITEBYTECODE", "ATTUNE_LSP_NO_ATTRS_CACHE"):
            env.pop(name, None)
        no_cache_env = {**env, "ATTUNE_LSP_NO_ATTRS_CACHE": "1"}
        attune_start, minimal_start, no_cache_start, attune_rss, minimal_rss = [], [], [], [], []
        await time_startup(ATTUNE, env)  # warm the OS caches (and write byte-code), unmeasured
        await time_startup(MINIMAL, env)
        for _ in range(runs):  # interleaved, so machine noise hits all alike
            t, rss = await time_startup(ATTUNE, env)
            attune_start.append(t)
            attune_rss.append(rss)
            t, rss = await time_startup(MINIMAL, env)
            minimal_start.append(t)
            minimal_rss.append(rss)
            no_cache_start.append((await time_startup(ATTUNE, no_cache_env))[0])
        lens = await bench_lenses(env, workdir)

    a, m = statistics.median(attune_start), statistics.median(minimal_start)
    print(f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; median of {runs} runs where repeated.\n")
    print("| Measure | attune-lsp | baseline | target |")
    print("|---|---|---|---|")
    print(f"| spawn → `initialize` result | {ms(a)} | {ms(m)} minimal pygls server ({a / m:.2f}×) | < 700 ms, ≤ 1.5× |")
    print(
        f"| spawn → `initialize` result without the cache of attrs's generated methods | "
        f"{ms(statistics.median(no_cache_start))} | {ms(a)} with it | — |"
    )
    print(f"| lenses, 10,000-line file, first answer (didOpen → codeLens) | {ms(lens['first_10k'])} | — | < 150 ms |")
    print(f"| lenses, 10,000-line file, repeated | {ms(lens['repeated_10k'])} | — | < 10 ms |")
    print(f"| lenses, 100,000-line file, first answer | {ms(lens['first_100k'])} | — | < 1.5 s |")
    print(
        f"| lenses of another (small) document while the 100,000-line file is counted "
        f"({lens['during_count']} requests) | median {ms(lens['during_other_median'])}, "
        f"max {ms(lens['during_other_max'])} | idle {ms(lens['idle_other'])} | keeps answering |"
    )
    print(
        f"| idle resident memory (VmRSS, 1 s after initialize) | {statistics.median(attune_rss):.1f} MB | "
        f"{statistics.median(minimal_rss):.1f} MB minimal pygls server | < 80 MB |"
    )
    print(f"| resident memory after the 100,000-line file | {lens['rss_after_mb']:.1f} MB | — | — |")
    print(
        f'\nLens shown for the 10,000-line file: "{lens["title_10k"]}"; '
        f'for the 100,000-line file: "{lens["title_100k"]}".'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    asyncio.run(main_async(parser.parse_args().runs))


if __name__ == "__main__":
    main()
