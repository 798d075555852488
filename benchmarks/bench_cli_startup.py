"""`attune auth recommend FILE` from spawn to answer, beside the bare interpreter.

Target: under 300 ms. The baseline rows show how much of that is Python
itself starting. Run: python benchmarks/bench_cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def median_ms(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    attune = shutil.which("attune")
    if attune is None:
        sys.exit("`attune` is not on PATH: pip install -e . first")
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "ATTUNE_HOME": home}
        sample = Path(home) / "sample.py"
        sample.write_text("\n".join(f"value_{i} = {i}" for i in range(1500)) + "\n")
        rows = [
            ("python -c pass (baseline: interpreter start)", [sys.executable, "-c", "pass"]),
            ("python -c 'import attune.models'", [sys.executable, "-c", "import attune.models"]),
            ("attune auth recommend sample.py --json", [attune, "auth", "recommend", str(sample), "--json"]),
            ("attune auth status --json", [attune, "auth", "status", "--json"]),
        ]
        print(
            f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"{args.runs} runs each\n"
        )
        print("| command | median ms | p90 ms |\n|---|---:|---:|")
        for label, cmd in rows:
            med, p90 = median_ms(cmd, env, args.runs)
            print(f"| {label} | {med:.0f} | {p90:.0f} |")


if __name__ == "__main__":
    main()
