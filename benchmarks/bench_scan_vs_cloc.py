"""`attune scan` against `cloc` on the same tree, side by side in one run.

    python benchmarks/bench_scan_vs_cloc.py [TREE] [--repeat N] [--exclude-dir NAME ...]

TREE defaults to this interpreter's standard library, without site-packages
(``--exclude-dir site-packages``, given to both tools). The commands run as a
user would run them, alternately, ``--repeat`` times; the median wall time counts.
attune runs twice: as installed (Python counted by the C counter, when setup.py
could build it) and with ``ATTUNE_LOC_PURE_PYTHON=1`` (regular expressions only,
what an install without a C compiler gets); their rows must agree.
cloc runs with ``--skip-uniqueness`` because attune counts every file, duplicates
included (cloc by default hashes every file and drops identical ones).

Then, untimed: per-language code lines of both tools (cloc ``--by-file``,
attune's own ``scan_tree``), and for Python an attribution of the difference
made with the tokenizer (``--no-explain`` skips it):
  A  lines of multi-line strings that are not statements (``x = \"\"\"...\"\"\"``,
     arguments): code for attune, comments for cloc, which turns every
     triple-quoted string into a comment;
  B  docstrings in ordinary quotes (``def f(): "doc"``): comments for attune,
     code for cloc, which only knows triple quotes;
  R  cloc's own mis-reads: the tokenizer applying cloc's rule vs. what cloc
     reports (a ''' inside a normal string or a comment flips cloc's state).
  attune - cloc = A - B + R, checked per file.

Not part of the test suite; prints Markdown for README.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import tokenize
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the command and its children, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, cpu, proc.stdout


# ---- Python lines under three rules, with the tokenizer ----------------------------


def python_rules(text: str) -> dict[str, int] | None:
    """Code lines of ``text`` under cloc's rule (every triple-quoted string is a
    comment), the docstring rule (triple-quoted string statements only) and
    attune's rule (every string statement). None if it does not tokenize."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    blank = {i + 1 for i, line in enumerate(lines) if not line.strip()}
    skip = {
        tokenize.ENCODING,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
        tokenize.COMMENT,
    }
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    statements: list[list[tokenize.TokenInfo]] = [[]]
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            statements.append([])
        elif tok.type not in skip:
            statements[-1].append(tok)

    def prefix(tok: tokenize.TokenInfo) -> str:
        return tok.string[: len(tok.string) - len(tok.string.lstrip("rRbBuUfF"))].lower()

    def is_plain_string(tok: tokenize.TokenInfo) -> bool:  # a string literal, not an f-string
        return tok.type == tokenize.STRING and "f" not in prefix(tok)

    def is_triple(tok: tokenize.TokenInfo) -> bool:
        return tok.type == tokenize.STRING and tok.string[len(prefix(tok)) :][:3] in ('"""', "'''")

    counts = {}
    for rule in ("cloc", "docstrings", "attune"):
        code: set[int] = set()
        for stmt in statements:
            string_statement = bool(stmt) and all(is_plain_string(t) for t in stmt)
            for tok in stmt:
                if rule == "cloc" and is_triple(tok):
                    continue
                if rule == "docstrings" and string_statement and all(is_triple(t) for t in stmt):
                    continue
                if rule == "attune" and string_statement:
                    continue
                code.update(n for n in range(tok.start[0], tok.end[0] + 1) if n not in blank)
        if text.startswith("#!"):
            code.add(1)  # both tools count a first-line #! as code
        counts[rule] = len(code)
    return counts


# ---- main ---------------------------------------------------------------------------


def main() -> int:
    default_tree = Path(sysconfig.get_paths()["stdlib"])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree", nargs="?", type=Path, default=default_tree)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--exclude-dir",
        action="append",
        default=None,
        metavar="NAME",
        help="directory name to leave out, for both tools (default: site-packages)",
    )
    parser.add_argument("--no-explain", action="store_true", help="skip the tokenizer attribution")
    args = parser.parse_args()
    tree: Path = args.tree.resolve()
    excluded = ["site-packages"] if args.exclude_dir is None else args.exclude_dir
    cloc_bin = shutil.which("cloc")
    if cloc_bin is None:
        sys.exit("cloc is not installed (Debian: apt-get install cloc)")
    cloc_version = subprocess.run([cloc_bin, "--version"], capture_output=True, text=True).stdout.strip()

    home = tempfile.mkdtemp(prefix="attune-bench-")  # no user strategy or pricing involved
    env = {**os.environ, "ATTUNE_HOME": home}
    cloc_cmd = [
        cloc_bin,
        "--quiet",
        "--json",
        "--skip-uniqueness",
        *(f"--exclude-dir={d}" for d in excluded),
        str(tree),
    ]
    attune_cmd = [
        sys.executable,
        "-m",
        "attune.cli.auth",
        "scan",
        str(tree),
        "--json",
        *(x for d in excluded for x in ("--exclude", f"{d}/")),
    ]

    # attune as installed (with the C counter of Python when it was built), and
    # with only its regular expressions: what a machine without a compiler gets
    commands = {
        "cloc": (cloc_cmd, env),
        "attune": (attune_cmd, env),
        "attune-pure": (attune_cmd, {**env, "ATTUNE_LOC_PURE_PYTHON": "1"}),
    }
    from attune.models.loc import counter as attune_loc

    if attune_loc._count_python_c is None:
        print("note: the C counter is not built here; both attune rows are the regular expressions", file=sys.stderr)
    times: dict[str, list[float]] = {tool: [] for tool in commands}
    cpu: dict[str, list[float]] = {tool: [] for tool in commands}
    outputs: dict[str, str] = {}
    load_before = os.getloadavg()[0]
    for rep in range(args.repeat):
        order = list(commands) if rep % 2 == 0 else list(reversed(commands))
        for tool in order:
            cmd, tool_env = commands[tool]
            elapsed, used, out = run_timed(cmd, tool_env)
            times[tool].append(elapsed)
            cpu[tool].append(used)
            outputs[tool] = out
        print(f"run {rep + 1}: " + ", ".join(f"{tool} {times[tool][-1]:.2f} s" for tool in commands), file=sys.stderr)
    cloc_json = json.loads(outputs["cloc"])
    attune_json = json.loads(outputs["attune"])
    if json.loads(outputs["attune-pure"])["files"] != attune_json["files"]:
        sys.exit("the C counter and the regular expressions disagree")
    cloc_s = statistics.median(times["cloc"])

    print("## attune scan vs cloc\n")
    load_after = os.getloadavg()[0]
    print(
        f"Tree: `{tree}` without {', '.join(excluded)}; {os.cpu_count()} cores "
        f"(1-minute load average {load_before:.2f} before, {load_after:.2f} after); "
        f"median of {args.repeat} alternating runs; {cloc_version and 'cloc ' + cloc_version} "
        f"with `--skip-uniqueness`; Python {sys.version.split()[0]}.\n"
    )
    print("| tool | seconds (median) | all runs | CPU seconds (median) | files | code lines | speed-up |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for tool, name, files, code in (
        ("cloc", "cloc", cloc_json["header"]["n_files"], cloc_json["SUM"]["code"]),
        ("attune", "attune scan", attune_json["totals"]["files"], attune_json["totals"]["lines"]),
        ("attune-pure", "attune scan, no C counter", attune_json["totals"]["files"], attune_json["totals"]["lines"]),
    ):
        median = statistics.median(times[tool])
        print(
            f"| {name} | {median:.2f} | {', '.join(f'{t:.2f}' for t in times[tool])} | "
            f"{statistics.median(cpu[tool]):.2f} | {files:,} | {code:,} | {cloc_s / median:.1f}x |"
        )

    # ---- per language, untimed ----
    sys.path.insert(0, str(REPO / "core"))
    from attune.models.loc.scan import scan_tree

    ours = scan_tree(tree, exclude=[f"{d}/" for d in excluded])
    by_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    our_files: dict[str, tuple[str, int]] = {}
    for rel, loc in ours.files:
        by_lang[loc.language][0] += 1
        by_lang[loc.language][1] += loc.code_lines
        our_files[str(tree / rel)] = (loc.language, loc.code_lines)
    assert sum(v[1] for v in by_lang.values()) == attune_json["totals"]["lines"], "CLI and library disagree"
    cloc_langs = {k: v for k, v in cloc_json.items() if k not in ("header", "SUM")}
    print("\n### Code lines per language\n")
    print("| language | cloc files | cloc code | attune files | attune code | difference |")
    print("|---|---:|---:|---:|---:|---:|")
    both_cloc = both_ours = 0
    for lang in sorted(
        set(cloc_langs) | set(by_lang),
        key=lambda k: -max(cloc_langs.get(k, {}).get("code", 0), by_lang.get(k, [0, 0])[1]),
    ):
        c = cloc_langs.get(lang)
        o = by_lang.get(lang)
        c_files, c_code = (c["nFiles"], c["code"]) if c else (0, 0)
        o_files, o_code = (o[0], o[1]) if o else (0, 0)
        if c and o:
            both_cloc += c_code
            both_ours += o_code
            diff = f"{o_code - c_code:+,} ({(o_code - c_code) / max(c_code, 1) * 100:+.2f}%)"
        else:
            diff = "not source for attune" if c else "not counted by cloc"
        print(f"| {lang} | {c_files:,} | {c_code:,} | {o_files:,} | {o_code:,} | {diff} |")
    print(
        f"| **languages both count** | | {both_cloc:,} | | {both_ours:,} | "
        f"{both_ours - both_cloc:+,} ({(both_ours - both_cloc) / max(both_cloc, 1) * 100:+.2f}%) |"
    )

    # ---- per file, untimed: where do the two disagree? ----
    by_file = json.loads(
        subprocess.run(
            [
                cloc_bin,
                "--quiet",
                "--json",
                "--by-file",
                "--skip-uniqueness",
                *(f"--exclude-dir={d}" for d in excluded),
                str(tree),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    cloc_files = {k: v for k, v in by_file.items() if k not in ("header", "SUM")}
    only_cloc = sorted(set(cloc_files) - set(our_files))
    only_ours = sorted(set(our_files) - set(cloc_files))
    print(
        f"\nFiles only cloc counts: {len(only_cloc)} "
        f"({', '.join(sorted({cloc_files[f]['language'] for f in only_cloc})) or '-'}); "
        f"files only attune counts: {len(only_ours)} "
        f"({sum(1 for f in only_ours if our_files[f][1] == 0)} of them empty, which cloc skips)."
    )
    diffs: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for path in set(cloc_files) & set(our_files):
        delta = our_files[path][1] - cloc_files[path]["code"]
        if delta:
            diffs[our_files[path][0]].append((delta, path))
    common_c = sum(cloc_files[p]["code"] for p in set(cloc_files) & set(our_files))
    common_o = sum(our_files[p][1] for p in set(cloc_files) & set(our_files))
    print(
        f"On the files both count: cloc {common_c:,}, attune {common_o:,} code lines "
        f"({(common_o - common_c) / max(common_c, 1) * 100:+.2f}%).\n"
    )
    for lang, items in sorted(diffs.items()):
        if lang == "Python":
            continue
        items.sort(key=lambda x: -abs(x[0]))
        shown = "; ".join(f"`{os.path.relpath(p, tree)}` {d:+,}" for d, p in items[:4])
        print(f"- {lang}: {len(items)} file(s) differ, {sum(d for d, _ in items):+,} lines: {shown}")

    if args.no_explain:
        return 0
    from attune.models.loc.counter import read_source

    totals = defaultdict(int)
    worst_r: list[tuple[int, str]] = []
    unexplained = 0
    for path in sorted(set(cloc_files) & set(our_files)):
        if our_files[path][0] != "Python":
            continue
        text = read_source(path, None)[0]
        rules = python_rules(text)
        if rules is None:
            continue
        a = rules["docstrings"] - rules["cloc"]
        b = rules["docstrings"] - rules["attune"]
        r = rules["cloc"] - cloc_files[path]["code"]
        totals["A"] += a
        totals["B"] += b
        totals["R"] += r
        totals["files"] += 1
        totals["cloc"] += cloc_files[path]["code"]
        totals["attune"] += our_files[path][1]
        if rules["attune"] != our_files[path][1]:
            unexplained += our_files[path][1] - rules["attune"]
        worst_r.append((r, os.path.relpath(path, tree)))
    worst_r.sort(key=lambda x: -abs(x[0]))
    print("\n### Python: the difference, explained with the tokenizer\n")
    print(
        f"On {totals['files']:,} Python files both count: attune {totals['attune']:,}, "
        f"cloc {totals['cloc']:,}, difference {totals['attune'] - totals['cloc']:+,} "
        f"({(totals['attune'] - totals['cloc']) / max(totals['cloc'], 1) * 100:+.2f}%).\n"
    )
    print("| part | lines | what |")
    print("|---|---:|---|")
    print(
        f"| A | {totals['A']:+,} | multi-line strings that are not statements: code for attune, "
        f"comments for cloc (deliberate) |"
    )
    print(f"| B | {-totals['B']:+,} | docstrings in ordinary quotes: comments for attune, code for cloc (deliberate) |")
    print(
        f"| R | {totals['R']:+,} | cloc's mis-reads of its own rule, e.g. `{worst_r[0][1]}` "
        f"{worst_r[0][0]:+,}, `{worst_r[1][1]}` {worst_r[1][0]:+,} |"
    )
    print(f"| attune vs tokenizer | {unexplained:+,} | attune's scanner against the tokenizer (0 = exact) |")
    excl_ab = totals["attune"] - totals["A"] + totals["B"]
    print(
        f"\nWithout the deliberate differences (A, B) attune would report {excl_ab:,} lines: "
        f"{(excl_ab - totals['cloc']) / max(totals['cloc'], 1) * 100:+.2f}% from cloc, all of it R."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
