"""How close cost estimates come to what runs cost, before and after calibration.

The world (``calibration_world``): the fake Anthropic API in realistic mode (input
tokens = one per 3.6 bytes of UTF-8; a reply is a seeded share, 0.25-0.75, of the
request's max_tokens) started in this process, ``ATTUNE_HOME`` in a temporary folder,
and real code nobody here wrote: 50 held-out modules and 20 others to calibrate on, in
Python, JavaScript and C headers, chosen by a seeded stratified sample.

1. Calibrate on the 20: exact counts of their files through ``count_tokens``, and the
   ``document`` task run over each of them (the runs table teaches the output ratios).
2. Before: the ``document`` task run over each held-out module in API mode
   (``plan_run`` + ``execute_plan`` through the real SDK against the fake), with no
   calibration: the default 4 tokens per code line and the task file's output ratios.
3. After: the calibration saved, the same modules run again: ``plan_run`` prices
   them with it (tokens per byte x the file's bytes, the learned output ratios).
   The plan's estimate also sets each stage's max_tokens, and with it, in this
   world, the reply's length.

The error of an estimate is |estimate - actual| / actual: for the cost, the plan's
API dollars against the run's API-equivalent dollars; for the tokens, the module's
estimated tokens against ``count_tokens`` of its file. Reported: the median and 90th
percentile, before and after, overall and per language, and where the error comes from
(per stage, per size stratum, the prompt overhead, the max_tokens floor).

Run: python benchmarks/bench_calibration.py [--json] [--verbose] [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibration_world import STRATA, Actual, Corpus, Module, World, choose_corpus

TASK = "document"
GOAL_MEDIAN, GOAL_P90 = 0.15, 0.35


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile, linear between neighbours (numpy's default)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def rel_error(estimate: float, actual: float) -> float:
    return abs(estimate - actual) / actual


def summary(errors: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(errors), "p90": percentile(errors, 0.90), "n": len(errors)}


@dataclasses.dataclass
class Row:
    """One held-out module: its run planned before calibration and its run planned after."""

    module: Module
    before: Actual
    after: Actual

    @property
    def actual_tokens(self) -> int:
        return self.before.module_tokens

    def errors(self) -> dict[str, float]:
        return {
            "cost_before": rel_error(self.before.planned_cost, self.before.cost),
            "cost_after": rel_error(self.after.planned_cost, self.after.cost),
            "tokens_before": rel_error(self.before.planned_tokens, self.actual_tokens),
            "tokens_after": rel_error(self.after.planned_tokens, self.actual_tokens),
        }


# ---- calibrating ------------------------------------------------------------------------


async def calibrate(world: World, modules: Sequence[Module], paths: Sequence[str]) -> tuple[Any, dict[str, Any]]:
    """Exact counts of the files (``count_files``: the per-language rates), then the
    task run over each (``learn_from_runs``: the output ratios). Returns the
    calibration and what it was made of."""
    from attune.models.calibration import calibrate_from_counts, count_files, learn_from_runs
    from attune.models.calibration.sampling import SampledFile
    from attune.models.telemetry.store import get_telemetry_store

    root = world.home
    sampled = [
        SampledFile(root / rel, rel, m.language, m.code_lines, m.size_bytes)
        for m, rel in zip(modules, paths, strict=True)
    ]
    outcome = await asyncio.to_thread(count_files, sampled)
    if outcome.stopped or outcome.skipped or len(outcome.counted) != len(sampled):
        raise SystemExit(f"bench_calibration: counting stopped ({outcome.stopped}), skipped {outcome.skipped}")
    runs = await world.run(TASK, modules, paths)
    lesson = learn_from_runs(get_telemetry_store())
    # sampled_from: the runs' files are the counted ones, so their rates come from the counts alone
    calibration = calibrate_from_counts(outcome, lesson, sampled_from=str(root))
    # the module's tokens a run implies (first stage's input - the task file's prompt
    # overhead) against the exact count of the same file
    counted = {os.path.abspath(root / f.rel): f.tokens for f in outcome.counted}
    implied = [(m.tokens - counted[m.path]) / counted[m.path] for m in lesson.modules if m.path in counted]
    notes = {
        "counted_files": len(outcome.counted),
        "runs": lesson.runs,
        "runs_module_tokens_error": {
            "median_signed": statistics.median(implied),
            "min": min(implied),
            "max": max(implied),
            "n": len(implied),
        },
        "calibration_runs": runs,
    }
    return calibration, notes


# ---- measuring --------------------------------------------------------------------------


async def measure(world: World, corpus: Corpus) -> dict[str, Any]:
    """Calibrate on the calibration modules; run the held-out ones before and after."""
    from attune.models.calibration import save_calibration

    cal_paths = world.place(corpus.calibration, "calibration")
    held_paths = world.place(corpus.held_out, "held_out")
    t0 = time.perf_counter()
    calibration, notes = await calibrate(world, corpus.calibration, cal_paths)
    before = await world.run(TASK, corpus.held_out, held_paths)  # no calibration file yet
    save_calibration(calibration)
    after = await world.run(TASK, corpus.held_out, held_paths)  # plan_run reads the calibration
    elapsed = time.perf_counter() - t0
    for a in after:
        if not a.tokens_basis.startswith("calibrated") or len(a.calibrated_stages) != len(a.planned_stages):
            raise SystemExit(
                f"bench_calibration: the plan for {a.path} after calibration rests on {a.tokens_basis!r} "
                f"with calibrated stages {list(a.calibrated_stages)}: plan_run did not use the calibration"
            )
    return {
        "rows": [Row(b.module, b, a) for b, a in zip(before, after, strict=True)],
        "calibration": calibration,
        "notes": notes,
        "elapsed_s": elapsed,
    }


# ---- the report -------------------------------------------------------------------------


def figures(rows: Sequence[Row]) -> dict[str, dict[str, float]]:
    errors = [r.errors() for r in rows]
    return {key: summary([e[key] for e in errors]) for key in errors[0]}


def by(rows: Sequence[Row], key: Callable[[Row], Any]) -> dict[Any, list[Row]]:
    groups: dict[Any, list[Row]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return groups


def stage_analysis(rows: Sequence[Row]) -> dict[str, Any]:
    """Per stage, the median signed error (estimate - actual) / actual of its input
    and output tokens and its share of the actual cost; the measured prompt overhead;
    how many stages asked for the max_tokens floor."""
    from attune.models.pricing.pipeline import get_task
    from attune.models.pricing.registry import get_model
    from attune.models.runs.runner import MIN_MAX_TOKENS, OUTPUT_HEADROOM

    pipeline = get_task(TASK)
    out: dict[str, Any] = {"stages": {}}
    total_cost = sum(r.after.cost for r in rows)
    for stage in pipeline.stages:
        model = get_model("anthropic", stage.tier)
        assert model is not None
        entry: dict[str, Any] = {"tier": stage.tier, "task_file_ratio": stage.output_ratio}
        for when in ("before", "after"):
            signed_in, signed_out = [], []
            for r in rows:
                run = r.before if when == "before" else r.after
                est = run.planned_stages[stage.name]
                act = run.stages[stage.name]
                signed_in.append((est[0] - act[0]) / act[0])
                signed_out.append((est[1] - act[1]) / act[1])
            entry[f"input_error_{when}"] = statistics.median(signed_in)
            entry[f"output_error_{when}"] = statistics.median(signed_out)
        entry["share_of_cost"] = sum(model.cost(*r.after.stages[stage.name]) for r in rows) / total_cost
        for when in ("before", "after"):
            entry[f"max_tokens_floor_runs_{when}"] = sum(
                OUTPUT_HEADROOM * getattr(r, when).planned_stages[stage.name][1] < MIN_MAX_TOKENS for r in rows
            )
        entry["actual_ratio_median"] = statistics.median(r.after.stages[stage.name][1] / r.actual_tokens for r in rows)
        out["stages"][stage.name] = entry
    first = next(s for s in pipeline.stages if s.reads_module and not s.reads)
    overheads = [r.before.stages[first.name][0] - r.actual_tokens for r in rows]
    # the calibrated estimate against the run the uncalibrated plan made: in this world a
    # reply's length is a share of max_tokens, which the plan's estimate sets
    out["cost_after_vs_uncalibrated_run"] = summary([rel_error(r.after.planned_cost, r.before.cost) for r in rows])
    out["prompt_overhead"] = {
        "task_file": first.prompt_overhead,
        "measured_median": statistics.median(overheads),
        "measured_min": min(overheads),
        "measured_max": max(overheads),
        "stage": first.name,
    }
    # where the error after calibration comes from: the same estimates with one cause taken away
    floor = MIN_MAX_TOKENS // OUTPUT_HEADROOM  # what the fake writes on average when a stage asks for the floor
    delta = round(statistics.median(overheads)) - first.prompt_overhead
    clear = [r for r in rows if all(OUTPUT_HEADROOM * o >= MIN_MAX_TOKENS for _, o in r.after.planned_stages.values())]
    out["after_without"] = {
        "modules_no_stage_at_floor": {**summary([r.errors()["cost_after"] for r in clear]), "n": len(clear)},
        "output_floor": summary([rel_error(repriced(r.after, floor_output=floor), r.after.cost) for r in rows]),
        "prompt_overhead": summary([rel_error(repriced(r.after, overhead_delta=delta), r.after.cost) for r in rows]),
        "both": summary(
            [rel_error(repriced(r.after, floor_output=floor, overhead_delta=delta), r.after.cost) for r in rows]
        ),
        "floor_output_tokens": floor,
        "overhead_delta": delta,
    }
    return out


def repriced(run: Actual, *, floor_output: int = 0, overhead_delta: int = 0) -> float:
    """The API dollars of ``run``'s plan with every stage's output at least
    ``floor_output`` and ``overhead_delta`` more prompt tokens per stage (a stage that
    reads an earlier one's output reads the changed output)."""
    from attune.models.pricing.pipeline import get_task
    from attune.models.pricing.registry import get_model

    changed: dict[str, int] = {}
    cost = 0.0
    for stage in get_task(TASK).stages:
        model = get_model("anthropic", stage.tier)
        assert model is not None
        planned_in, planned_out = run.planned_stages[stage.name]
        changed[stage.name] = max(planned_out, floor_output)
        reads = sum(changed[name] - run.planned_stages[name][1] for name in stage.reads)
        cost += model.cost(planned_in + overhead_delta + reads, changed[stage.name])
    return cost


def pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def report(result: dict[str, Any], corpus: Corpus, args: argparse.Namespace) -> dict[str, Any]:
    rows: list[Row] = result["rows"]
    overall = figures(rows)
    languages = {lang: figures(group) for lang, group in by(rows, lambda r: r.module.language).items()}
    strata = {
        f"{STRATA[s][0]}-{STRATA[s][1] - 1}": figures(group)
        for s, group in sorted(by(rows, lambda r: r.module.stratum).items())
    }
    calibration = result["calibration"]
    return {
        "task": TASK,
        "seed": args.seed,
        "fake_seed": args.fake_seed,
        "held_out": len(corpus.held_out),
        "calibration_modules": len(corpus.calibration),
        "pool_sizes": corpus.pool_sizes,
        "error": "abs(estimate - actual) / actual",
        "goal": {"median": GOAL_MEDIAN, "p90": GOAL_P90},
        "overall": overall,
        "languages": languages,
        "strata": strata,
        "analysis": stage_analysis(rows),
        "calibration": {
            "languages": {
                lang: {
                    "tokens_per_line": rates.tokens_per_line.value,
                    "tokens_per_byte": rates.tokens_per_byte.value,
                    "files": rates.files,
                    "source": rates.source,
                }
                for lang, rates in sorted(calibration.languages.items())
            },
            "output_ratios": {key: ratio.value for key, ratio in sorted(calibration.output_ratios.items())},
            "runs_used": result["notes"]["runs"],
            "runs_module_tokens_error": result["notes"]["runs_module_tokens_error"],
        },
        "elapsed_s": round(result["elapsed_s"], 2),
        "modules": [
            {
                "label": r.module.label,
                "language": r.module.language,
                "code_lines": r.module.code_lines,
                "size_bytes": r.module.size_bytes,
                "tokens": r.actual_tokens,
                "tokens_before": r.before.planned_tokens,
                "tokens_after": r.after.planned_tokens,
                "tokens_after_basis": r.after.tokens_basis,
                "cost_before": round(r.before.planned_cost, 6),
                "cost_before_run": r.before.cost,
                "cost_after": round(r.after.planned_cost, 6),
                "cost_after_run": r.after.cost,
                **{k: round(v, 4) for k, v in r.errors().items()},
            }
            for r in rows
        ],
        "calibration_files": [m.label for m in corpus.calibration],
    }


def print_table(data: dict[str, Any], verbose: bool, corpus: Corpus) -> None:
    print(f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"Task {data['task']}: {data['held_out']} held-out modules, calibrated on {data['calibration_modules']} others "
        f"(eligible files: {', '.join(f'{k} {v}' for k, v in data['pool_sizes'].items())}); "
        f"error = |estimate - actual| / actual; runs took {data['elapsed_s']} s\n"
    )
    if verbose:
        for title, modules in (("Held-out modules", corpus.held_out), ("Calibration modules", corpus.calibration)):
            print(f"{title}:")
            for m in modules:
                print(f"  {m.language:13} {m.code_lines:5} code lines {m.size_bytes:7} bytes  {m.label}")
            print()
    o = data["overall"]
    print("| estimate | before: median | before: p90 | after: median | after: p90 |")
    print("|---|---:|---:|---:|---:|")
    for what, key in (("cost of the run", "cost"), ("module tokens", "tokens")):
        b, a = o[f"{key}_before"], o[f"{key}_after"]
        print(f"| {what} | {pct(b['median'])} | {pct(b['p90'])} | {pct(a['median'])} | {pct(a['p90'])} |")
    goal = "met" if o["cost_after"]["median"] <= GOAL_MEDIAN and o["cost_after"]["p90"] <= GOAL_P90 else "NOT met"
    print(f"\nGoal for the cost after calibration (median <= 15%, p90 <= 35%): {goal}")
    print()
    for title, groups in (("language", data["languages"]), ("code lines", data["strata"])):
        print(f"| {title} | n | cost before | cost after | tokens before | tokens after |  (medians)")
        print("|---|---:|---:|---:|---:|---:|")
        for name, f in groups.items():
            print(
                f"| {name} | {f['cost_before']['n']} | {pct(f['cost_before']['median'])} | "
                f"{pct(f['cost_after']['median'])} | {pct(f['tokens_before']['median'])} | "
                f"{pct(f['tokens_after']['median'])} |"
            )
        print()
    an = data["analysis"]
    print("Per stage (median signed error of the estimate, (estimate - actual) / actual; share of the actual cost):")
    print(
        "| stage | tier | share of cost | input before | input after | output before | output after | "
        "ratio: task file / calibrated / actual median | runs at the max_tokens floor, before / after |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|---:|")
    ratios = data["calibration"]["output_ratios"]
    for name, s in an["stages"].items():
        learned = ratios.get(f"{TASK}/{name}")
        print(
            f"| {name} | {s['tier']} | {pct(s['share_of_cost'])} | {pct(s['input_error_before'])} | "
            f"{pct(s['input_error_after'])} | {pct(s['output_error_before'])} | {pct(s['output_error_after'])} | "
            f"{s['task_file_ratio']:g} / {learned if learned is None else round(learned, 3)} / "
            f"{s['actual_ratio_median']:.3f} | {s['max_tokens_floor_runs_before']} / "
            f"{s['max_tokens_floor_runs_after']} of {data['held_out']} |"
        )
    po = an["prompt_overhead"]
    print(
        f"\nPrompt overhead ({po['stage']}: input tokens - module tokens): measured median {po['measured_median']:.0f} "
        f"(min {po['measured_min']}, max {po['measured_max']}); the task file says {po['task_file']}"
    )
    v = an["cost_after_vs_uncalibrated_run"]
    print(
        f"The calibrated estimate against the runs planned without calibration: median {pct(v['median'])}, "
        f"p90 {pct(v['p90'])} (a reply is a share of max_tokens, which the plan's estimate sets)"
    )
    w = an["after_without"]
    print("\nThe cost error after calibration with one cause taken away (median / p90):")
    print(
        f"- modules with no stage at the max_tokens floor ({w['modules_no_stage_at_floor']['n']}): "
        f"{pct(w['modules_no_stage_at_floor']['median'])} / {pct(w['modules_no_stage_at_floor']['p90'])}"
    )
    print(
        f"- every stage's estimated output at least {w['floor_output_tokens']} tokens (half the runner's "
        f"max_tokens floor): {pct(w['output_floor']['median'])} / {pct(w['output_floor']['p90'])}"
    )
    print(
        f"- the prompt overhead as measured ({w['overhead_delta']:+d} tokens per stage): "
        f"{pct(w['prompt_overhead']['median'])} / {pct(w['prompt_overhead']['p90'])}"
    )
    print(f"- both: {pct(w['both']['median'])} / {pct(w['both']['p90'])}")
    rm = data["calibration"]["runs_module_tokens_error"]
    print(
        f"Module tokens a calibration run implies (first stage's input - the task file's prompt overhead) against "
        f"the exact count: median {pct(rm['median_signed'])} (from {pct(rm['min'])} to {pct(rm['max'])}, "
        f"{rm['n']} runs); the output ratios learned from runs divide by these"
    )
    rates = "; ".join(
        f"{lang} {r['tokens_per_line']:.1f} tokens/line, {r['tokens_per_byte']:.4f} tokens/byte ({r['files']} files)"
        for lang, r in data["calibration"]["languages"].items()
    )
    print(f"Calibration: {rates}")
    print(
        "Learned output ratios: "
        + ", ".join(f"{k.split('/', 1)[1]} {v:.3f}" for k, v in data["calibration"]["output_ratios"].items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=7, help="the corpus sample's seed (default 7)")
    parser.add_argument("--fake-seed", type=int, default=0, help="the fake API's seed for reply lengths (default 0)")
    parser.add_argument("--held-out", type=int, default=50, help="held-out modules (default 50)")
    parser.add_argument("--calibrate-on", type=int, default=20, help="modules to calibrate on (default 20)")
    parser.add_argument("--concurrency", type=int, default=8, help="runs in flight at once (default 8)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--verbose", action="store_true", help="list the modules, and per module its errors in --json")
    args = parser.parse_args()
    corpus = choose_corpus(args.held_out, args.calibrate_on, args.seed)
    with World(seed=args.fake_seed, concurrency=args.concurrency) as world:
        result = asyncio.run(measure(world, corpus))
    data = report(result, corpus, args)
    if args.json:
        if not args.verbose:
            data.pop("modules")
        print(json.dumps(data, indent=2, default=str))
    else:
        print_table(data, args.verbose, corpus)


if __name__ == "__main__":
    main()
