"""Typing in a large file: incremental changes, then the next lens, side by side with a
minimal pygls server in the same run.

    python benchmarks/bench_editing.py [--runs 3] [--lines 100000] [--changes 200]

Each run spawns both servers (interleaved), opens a --lines-line Python file (standard-
library modules concatenated), waits for its first lens, then sends --changes
incremental didChange notifications as fast as it can: a line break, then one
character at a time of a comment, in the middle of the file (what typing sends, one
notification per keystroke). Measured from the first change:

- the lens of another, small document sent after the last change: when the server
  has applied every change (it answers in order);
- the lens of the edited file sent after the last change: for attune-lsp this
  includes the debounce (lens.debounceMs, 300 ms) and the recount of the file.

The baseline is benchmarks/minimal_editing_server.py: pygls's own workspace, a lens
from the full text. Prints a Markdown table (medians of --runs).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_lsp import ATTUNE, Client, lenses, open_doc, python_text

HERE = Path(__file__).resolve().parent
BASELINE = [sys.executable, str(HERE / "minimal_editing_server.py")]
COMMENT = "# typed while the server counts: " + "the quick brown fox jumps over the lazy dog " * 8


def ms(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def typing_changes(uri: str, line: int, count: int) -> list[dict[str, Any]]:
    """``count`` didChange params: a line break at ``line``, then a comment typed into the new line."""
    changes = []
    for i in range(count):
        if i == 0:
            at, text = (line, 0), "\n"
        else:
            at, text = (line, i - 1), COMMENT[(i - 1) % len(COMMENT)]
        position = {"line": at[0], "character": at[1]}
        changes.append(
            {
                "textDocument": {"uri": uri, "version": i + 2},
                "contentChanges": [{"range": {"start": position, "end": position}, "text": text}],
            }
        )
    return changes


async def one_run(command: list[str], env: dict[str, str], workdir: Path, text: str, changes: int) -> dict[str, Any]:
    client = await Client.spawn(command, env)
    await client.initialize()
    try:
        small_uri = (workdir / "small.py").as_uri()
        open_doc(client, small_uri, python_text(50))
        await lenses(client, small_uri)
        uri = (workdir / "big.py").as_uri()
        open_doc(client, uri, text)
        await lenses(client, uri)  # counted once before typing
        edits = typing_changes(uri, text.count("\n") // 2, changes)

        start = time.perf_counter()
        for params in edits:
            client.notify("textDocument/didChange", params)
        await lenses(client, small_uri)
        applied = time.perf_counter() - start
        title = (await lenses(client, uri))[0]["command"]["title"]
        answered = time.perf_counter() - start
    finally:
        await client.close()
    return {"applied": applied, "answered": answered, "title": title}


async def main_async(runs: int, lines: int, changes: int) -> None:
    text = python_text(lines)
    attune: list[dict[str, Any]] = []
    baseline: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = {**os.environ, "ATTUNE_HOME": str(workdir / "home")}
        env.pop("ANTHROPIC_API_KEY", None)
        for _ in range(runs):  # interleaved, so machine noise hits both alike
            attune.append(await one_run(ATTUNE, env, workdir, text, changes))
            baseline.append(await one_run(BASELINE, env, workdir, text, changes))

    def med(results: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in results)

    print(f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; median of {runs} runs.\n")
    print("| Measure | attune-lsp | baseline | target |")
    print("|---|---|---|---|")
    print(
        f"| {changes} incremental changes to a {lines:,}-line file, applied (→ lens of another document) "
        f"| {ms(med(attune, 'applied'))} | {ms(med(baseline, 'applied'))} minimal pygls server | — |"
    )
    print(
        f"| {changes} incremental changes to a {lines:,}-line file → its next lens answered "
        f"| {ms(med(attune, 'answered'))} (300 ms of it the debounce) "
        f"| {ms(med(baseline, 'answered'))} minimal pygls server | < 1 s |"
    )
    print(f'\nLens after the changes: attune-lsp "{attune[-1]["title"]}"; baseline "{baseline[-1]["title"]}".')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main_async(args.runs, args.lines, args.changes))


if __name__ == "__main__":
    main()
