"""Reading Claude Code's logs for `attune usage`: cold, after one new message, unchanged.

Generates ``--mb`` MB (default 500) of realistic session logs (many projects and
sessions; user lines, tool results of up to 60 kB, assistant lines logged once per
content block) into a temp folder, outside the timing. Then, with the cache in a
fresh ``ATTUNE_HOME``:

- cold: ``UsageReader.refresh()`` on an empty cache, beside two baselines in the same
  run: the raw read of every byte (16 MB chunks, counting lines: what ``wc -l`` does)
  and a naive reader's ``json.loads`` of every line;
- one new message: a message appended to one session, then ``refresh()`` from a new
  ``UsageReader`` (a new connection: what each `attune usage` process does), and
  ``current_block()`` after it; median of ``--repeat`` runs;
- no change: ``refresh()`` again with nothing new (median);
- the whole `attune usage --json` command after one new message, spawn to exit
  (median), beside ``python -c pass``.

Run: python benchmarks/bench_usage_logs.py [--mb 500] [--repeat 7] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from attune.models.usage import UsageReader  # noqa: E402
from support.claude_logs import ClaudeLogs, realistic_session  # noqa: E402

MB = 1_000_000


def generate(root: Path, megabytes: int, seed: int = 7) -> tuple[int, int]:
    """Sessions across 40 projects over the last 60 days until ``megabytes`` are
    written; returns (files, bytes)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    written = files = 0
    while written < megabytes * MB:
        project = f"-home-u-src-project{rng.randrange(40):02d}"
        session = f"{rng.getrandbits(64):016x}"
        start = now - timedelta(days=rng.uniform(0.5, 60))
        path = root / project / f"{session}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = realistic_session(
            rng, start, cwd="/home/u/src/" + project[-9:], session_id=session, turns=rng.randint(5, 120)
        )
        text = "\n".join(lines) + "\n"
        path.write_text(text, encoding="utf-8")
        written += len(text.encode("utf-8"))
        files += 1
    return files, written


def all_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.jsonl"))


def raw_read(files: list[Path]) -> tuple[float, int]:
    started = time.perf_counter()
    lines = 0
    for path in files:
        with path.open("rb") as fh:
            while chunk := fh.read(16 * 1024 * 1024):
                lines += chunk.count(b"\n")
    return time.perf_counter() - started, lines


def naive_json(files: list[Path]) -> tuple[float, int]:
    started = time.perf_counter()
    usage = 0
    for path in files:
        with path.open("rb") as fh:
            for line in fh:
                obj = json.loads(line)
                message = obj.get("message")
                if isinstance(message, dict) and "usage" in message:
                    usage += 1
    return time.perf_counter() - started, usage


def timed(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=500, help="megabytes of logs to generate (default 500)")
    parser.add_argument("--repeat", type=int, default=7, help="runs of each warm measurement (median)")
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this folder instead of a temp one")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="attune-bench-usage-") as tmp:
        logs_root = args.keep or Path(tmp) / "projects"
        if not logs_root.exists() or not any(logs_root.rglob("*.jsonl")):
            t = time.perf_counter()
            count, size = generate(logs_root, args.mb)
            print(f"generated {count} files, {size / MB:,.0f} MB in {time.perf_counter() - t:.0f} s (not timed)")
        files = all_files(logs_root)
        size = sum(p.stat().st_size for p in files)
        home = Path(tmp) / "home"
        os.environ["ATTUNE_HOME"] = str(home)
        os.environ["ATTUNE_CLAUDE_LOGS"] = str(logs_root)

        raw_s, lines = raw_read(files)
        naive_s, usage_lines = naive_json(files)
        reader = UsageReader([logs_root])
        cold_started = time.perf_counter()
        reader.refresh()
        cold_s = time.perf_counter() - cold_started
        entries = reader.total().entries
        reader.close()

        logs = ClaudeLogs(logs_root)
        target = files[len(files) // 2]
        append_s, block_s, nochange_s, command_s, pass_s = [], [], [], [], []
        for i in range(args.repeat):
            logs.write(target, logs.message(datetime.now(UTC), cwd="/home/u/src/bench", output_tokens=10 + i))
            fresh = UsageReader([logs_root])
            append_s.append(timed(fresh.refresh))
            block_s.append(timed(lambda r=fresh: r.current_block()))  # type: ignore[misc]
            nochange_s.append(timed(fresh.refresh))
            fresh.close()
        for i in range(args.repeat):
            logs.write(target, logs.message(datetime.now(UTC), cwd="/home/u/src/bench", output_tokens=100 + i))
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "attune.cli", "usage", "--json"], check=True, capture_output=True)
            command_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            pass_s.append(time.perf_counter() - t)
        final = UsageReader([logs_root])
        assert final.total().entries == entries + 2 * args.repeat, "every appended message counted once"
        final.close()

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.1f} ms"

    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"logs: {len(files)} files, {size / MB:,.0f} MB, {lines:,} lines, {usage_lines:,} usage lines")
    print(f"  {entries:,} messages after deduplication")
    print(f"cold read (empty cache):           {cold_s:7.2f} s ({size / MB / cold_s:,.0f} MB/s)")
    print(f"  baseline raw read, counting lines: {raw_s:5.2f} s ({size / MB / raw_s:,.0f} MB/s)")
    print(f"  baseline json.loads of every line: {naive_s:5.2f} s ({size / MB / naive_s:,.0f} MB/s)")
    print(f"one new message, new reader:       {ms(append_s)} (median of {args.repeat}; target < 50 ms)")
    print(f"  current_block() after it:         {ms(block_s)}")
    print(f"no change, refresh():              {ms(nochange_s)}")
    print(f"`attune usage --json` after a new message: {ms(command_s)} (python -c pass: {ms(pass_s)})")


if __name__ == "__main__":
    main()
