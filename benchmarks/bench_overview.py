"""The workspace summary (the overview's data) against `attune scan` of the same tree,
side by side in one run.

    python benchmarks/bench_overview.py [TREE] [--repeat N]

TREE defaults to this interpreter's standard library without site-packages (about
2,000 files; the count is printed). Each measurement runs in a new process, timed
inside it, so nothing is warm but the OS's file cache (one untimed scan warms it):

- ``scan``: what `attune scan TREE --json` computes: ``scan_tree`` with every file
  priced as it is counted (``ReportBuilder``), the baseline;
- ``first``: ``workspace_summary`` with an empty count cache (a new ATTUNE_HOME):
  every file counted, each task priced, the cache written;
- ``again``: the same process summarises the unchanged tree a second time: the
  language server's case after a save (the count cache answers every file, the
  priced rows are reused);
- ``again, new process``: a new process with the warm count cache (`attune scan
  --html` run twice): the files come from the cache, the rows are priced again;
- through the language server: ``attune/workspaceSummary`` on a copy of the tree
  (without site-packages: the request takes no exclude patterns), the first request
  of a new server with an empty cache, then the same request again; request ->
  answer, JSON-RPC round trip included (a server already running: its threads make
  the counting pool start its workers with forkserver rather than fork).

Medians of ``--repeat`` runs (default 7). Not part of the test suite; prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXCLUDE = ["site-packages/"]

_CHILD = r"""
import json, sys, time
from attune.models.advice import ReportBuilder, load_context
from attune.models.loc.scan import scan_tree
from attune.models.overview import workspace_summary

kind, tree = sys.argv[1], sys.argv[2]
exclude = json.loads(sys.argv[3])
start = time.perf_counter()
context = load_context()
if kind == "scan":
    builder = ReportBuilder(context)
    result = scan_tree(tree, exclude=exclude, on_file=builder.add)
    files = len(builder.finish(result)["files"])
    times = [time.perf_counter() - start]
else:
    summary = workspace_summary(tree, context=context, exclude=exclude)
    times = [time.perf_counter() - start]
    files = len(summary["files"])
    if kind == "again":
        start = time.perf_counter()
        summary = workspace_summary(tree, context=load_context(), exclude=exclude)
        times.append(time.perf_counter() - start)
        assert summary["cache"]["hits"] == files, summary["cache"]
print(json.dumps({"times": times, "files": files}))
"""


def child(kind: str, tree: str, home: str) -> dict[str, object]:
    env = {**os.environ, "ATTUNE_HOME": home, "PYTHONPATH": f"{REPO / 'core'}{os.pathsep}{REPO / 'server'}"}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, tree, json.dumps(EXCLUDE)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"{kind} failed: {proc.stderr[-2000:]}")
    result: dict[str, object] = json.loads(proc.stdout)
    return result


async def through_server(tree: str, home: str) -> tuple[float, float, int]:
    """(first summary, the same again, files) from a new language server."""
    import asyncio
    import time

    from bench_lsp import ATTUNE, Client

    env = {**os.environ, "ATTUNE_HOME": home, "PYTHONPATH": f"{REPO / 'core'}{os.pathsep}{REPO / 'server'}"}
    client = await Client.spawn(ATTUNE, env)
    try:
        await client.initialize()
        await asyncio.sleep(0.5)  # the server's own start-up work (watchers) settles
        times = []
        for _ in range(2):
            start = time.perf_counter()
            summary = await client.request("attune/workspaceSummary", {"folder": Path(tree).as_uri()})
            times.append(time.perf_counter() - start)
        return times[0], times[1], len(summary["files"])
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    tree = str(Path(args.tree).resolve())

    rows: dict[str, list[float]] = {"scan": [], "first": [], "again": [], "again, new process": []}
    files = 0
    with tempfile.TemporaryDirectory(prefix="bench-overview-") as tmp:
        child("scan", tree, os.path.join(tmp, "warm-up"))  # the OS's file cache, untimed
        warm = os.path.join(tmp, "warm")
        child("first", tree, warm)  # fills the count cache the "new process" rows use
        for n in range(args.repeat):
            scan = child("scan", tree, os.path.join(tmp, f"scan-{n}"))
            first = child("first", tree, os.path.join(tmp, f"first-{n}"))
            again = child("again", tree, os.path.join(tmp, f"again-{n}"))
            reopened = child("again, new process", tree, warm)
            rows["scan"].append(scan["times"][0])  # type: ignore[index]
            rows["first"].append(first["times"][0])  # type: ignore[index]
            rows["again"].append(again["times"][1])  # type: ignore[index]
            rows["again, new process"].append(reopened["times"][0])  # type: ignore[index]
            files = int(scan["files"])  # type: ignore[call-overload]
            assert first["files"] == files == again["files"] == reopened["files"], (scan, first, again, reopened)
        import asyncio
        import shutil

        copy = os.path.join(tmp, "tree")
        shutil.copytree(tree, copy, ignore=shutil.ignore_patterns("site-packages"), symlinks=True)
        for n in range(args.repeat):
            first_s, again_s, served = asyncio.run(through_server(copy, os.path.join(tmp, f"server-{n}")))
            rows.setdefault("server, first", []).append(first_s)
            rows.setdefault("server, again", []).append(again_s)
            assert served == files, (served, files)

    where = f"{tree} (without {', '.join(EXCLUDE)})"
    print(f"Tree: {where}: {files:,} files; median of {args.repeat}, each in a new process or server\n")
    print("| what | median | min | max |")
    print("|---|---:|---:|---:|")
    for name, times in rows.items():
        label = {
            "scan": "`attune scan` (baseline: count + price the default task)",
            "first": "summary, empty count cache",
            "again": "summary again, unchanged tree, same process",
            "again, new process": "summary, warm count cache, new process",
            "server, first": "`attune/workspaceSummary`, a new server, empty count cache",
            "server, again": "`attune/workspaceSummary` again, unchanged tree",
        }[name]
        print(
            f"| {label} | {statistics.median(times) * 1000:.0f} ms | {min(times) * 1000:.0f} ms | "
            f"{max(times) * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()
