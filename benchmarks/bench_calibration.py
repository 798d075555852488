"""How close cost estimates come to what runs cost, before and after calibration.

The world (``calibration_world``): the fake Anthropic API in realistic mode (input
tokens = one per 3.6 bytes of UTF-8; a reply is REPLY_BASE_TOKENS + VERBOSITY x the
request's input tokens, times a factor drawn per request from REPLY_SPREAD, cut at
the request's max_tokens) started in this process, ``ATTUNE_HOME`` in a temporary
folder, and real code nobody here wrote: 50 held-out modules and 20 others to
calibrate on, in Python, JavaScript and C headers, chosen by a seeded stratified
sample.

1. Calibrate on the 20: exact counts of their files through ``count_files``, and the
   ``document`` task run over each of them (the runs table teaches each stage's
   output rule, base + ratio x the module's tokens).
2. Before: the ``document`` task run over each held-out module in API mode
   (``plan_run`` + ``execute_plan`` through the real SDK against the fake), with no
   calibration: the default 4 tokens per code line and the task file's output ratios.
3. After: the calibration saved, the same modules run again: ``plan_run`` prices
   them with it (tokens per byte x the file's bytes, the learned output rules).

The error of an estimate is |estimate - actual| / actual: for the cost, the plan's
API dollars against the run's API-equivalent dollars; for the tokens, the module's
estimated tokens against ``count_tokens`` of its file. Reported: the median and 90th
percentile, before and after, overall, per language and per size stratum; then where
the error comes from: per stage the signed errors, the learned output rule against
the fake's own, the prompt tokens against the templates' estimate, the replies cut at
max_tokens, and the cost error after calibration taken apart into the fake's seeded
spread (which no estimate can know) and the rest.

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

# calibration_world put tests/ on the path
from support.fake_anthropic import REPLY_BASE_TOKENS, REPLY_SPREAD, VERBOSITY

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


# ---- where the error comes from --------------------------------------------------------
#
# The fake's replies (``fake_anthropic.realistic_output_tokens``): REPLY_BASE_TOKENS +
# VERBOSITY x the request's input tokens, times a factor drawn from REPLY_SPREAD (mean
# 1), cut at the request's max_tokens. So a stage's expected reply is a line in its
# input, and through the stages it reads, a line in the module's tokens T.


def stages_of_task() -> list[Any]:
    from attune.models.pricing.pipeline import get_task

    return list(get_task(TASK).stages)


def stage_cost(tier: str, input_tokens: float, output_tokens: float) -> float:
    from attune.models.pricing.registry import get_model

    model = get_model("anthropic", tier)
    assert model is not None
    return model.cost(input_tokens, output_tokens)


def prompt_tokens(run: Actual, stage: Any) -> int:
    """A stage's input tokens beyond the module and the earlier outputs it reads: its
    prompt, as the fake counted it."""
    reads = sum(run.stages[name][1] for name in stage.reads)
    return run.stages[stage.name][0] - (run.module_tokens if stage.reads_module else 0) - reads


def was_cut(run: Actual, stage: str) -> bool:
    """The reply is as long as its request's max_tokens allowed: the fake cut it there
    (and said ``max_tokens``, so calibration left it out)."""
    return run.stages[stage][1] >= run.max_tokens[stage]


def expected_run(run: Actual) -> dict[str, tuple[float, float]]:
    """Stage -> (input, output) tokens of ``run`` had every reply been the fake's
    expected length for its request (no spread; still cut at the request's max_tokens),
    the prompts as sent."""
    tokens: dict[str, tuple[float, float]] = {}
    for stage in stages_of_task():
        reads = sum(tokens[name][1] for name in stage.reads)
        input_tokens = prompt_tokens(run, stage) + (run.module_tokens if stage.reads_module else 0) + reads
        output = min(float(run.max_tokens[stage.name]), REPLY_BASE_TOKENS + VERBOSITY * input_tokens)
        tokens[stage.name] = (input_tokens, output)
    return tokens


def expected_cost(run: Actual) -> float:
    """The API dollars of ``run`` with the fake's expected replies: what a perfect
    estimate (the module's exact tokens, the fake's own rule) would say."""
    return sum(stage_cost(s.tier, *expected_run(run)[s.name]) for s in stages_of_task())


def fake_rules(prompts: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Stage -> (base, ratio): the fake's expected reply as base + ratio x T, with each
    stage's prompt ``prompts[stage]`` tokens long and nothing cut."""
    rules: dict[str, tuple[float, float]] = {}
    for stage in stages_of_task():
        base_in = prompts[stage.name] + sum(rules[name][0] for name in stage.reads)
        ratio_in = (1.0 if stage.reads_module else 0.0) + sum(rules[name][1] for name in stage.reads)
        rules[stage.name] = (REPLY_BASE_TOKENS + VERBOSITY * base_in, VERBOSITY * ratio_in)
    return rules


def plan_with_rules(run: Actual, rules: dict[str, tuple[float, float]]) -> float:
    """The API dollars of ``run``'s plan (its module tokens, the template's prompt
    tokens) with each stage's output from ``rules`` (stage -> (base, ratio))."""
    outputs: dict[str, float] = {}
    cost = 0.0
    for stage in stages_of_task():
        base, ratio = rules[stage.name]
        outputs[stage.name] = base + ratio * run.planned_tokens
        cost += stage_cost(stage.tier, stage.input_tokens(run.planned_tokens, outputs), outputs[stage.name])
    return cost


def plan_with_prompts(run: Actual, prompts: dict[str, float]) -> float:
    """The API dollars of ``run``'s plan with each stage's prompt ``prompts[stage]``
    tokens long instead of the template's estimate."""
    return sum(
        stage_cost(stage.tier, planned_in - stage.prompt_overhead + prompts[stage.name], planned_out)
        for stage in stages_of_task()
        for planned_in, planned_out in [run.planned_stages[stage.name]]
    )


def learned_rules(calibration: Any) -> dict[str, tuple[float, float]]:
    """Stage -> (base, ratio) of the calibration's output rule for TASK."""
    return {
        key.split("/", 1)[1]: (float(rule.base_tokens), rule.value)
        for key, rule in calibration.output_ratios.items()
        if key.startswith(f"{TASK}/")
    }


def spread(values: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def stage_analysis(rows: Sequence[Row], calibration: Any, calibration_runs: Sequence[Actual]) -> dict[str, Any]:
    """Per stage: the median signed error (estimate - actual) / actual of its input and
    output tokens before and after, its share of the actual cost, the prompt tokens as
    the fake counted them against the template's estimate, the replies cut at
    max_tokens, and the learned output rule against the fake's own. Then the cost error
    after calibration taken apart: the fake's seeded spread (which no estimate from
    the module alone can know) and what is left."""
    total_cost = sum(r.after.cost for r in rows)
    afters = [r.after for r in rows]
    prompts = {s.name: statistics.median(prompt_tokens(run, s) for run in afters) for s in stages_of_task()}
    truth = fake_rules(prompts)
    learned = learned_rules(calibration)
    held_tokens = [r.actual_tokens for r in rows]
    stages: dict[str, Any] = {}
    for stage in stages_of_task():
        entry: dict[str, Any] = {"tier": stage.tier, "task_file_ratio": stage.output_ratio}
        for when in ("before", "after"):
            runs = [getattr(r, when) for r in rows]
            entry[f"input_error_{when}"] = statistics.median(
                (run.planned_stages[stage.name][0] - run.stages[stage.name][0]) / run.stages[stage.name][0]
                for run in runs
            )
            entry[f"output_error_{when}"] = statistics.median(
                (run.planned_stages[stage.name][1] - run.stages[stage.name][1]) / run.stages[stage.name][1]
                for run in runs
            )
            entry[f"cut_{when}"] = sum(was_cut(run, stage.name) for run in runs)
        entry["cut_calibration"] = sum(was_cut(run, stage.name) for run in calibration_runs)
        entry["share_of_cost"] = sum(stage_cost(stage.tier, *run.stages[stage.name]) for run in afters) / total_cost
        entry["prompt_tokens"] = {
            "template": stage.prompt_overhead,
            **spread([prompt_tokens(run, stage) for run in afters]),
        }
        base, ratio = learned[stage.name]
        true_base, true_ratio = truth[stage.name]
        entry["learned_rule"] = {"base": base, "ratio": ratio}
        entry["fake_rule"] = {"base": round(true_base, 1), "ratio": round(true_ratio, 4)}
        # the learned rule against the fake's expected reply at each held-out module's T
        entry["learned_vs_fake"] = spread(
            [(base + ratio * t - true_base - true_ratio * t) / (true_base + true_ratio * t) for t in held_tokens]
        )
        stages[stage.name] = entry
    return {
        "stages": stages,
        # each row: an estimate against an outcome, over the held-out modules after calibration
        "cost_after_parts": {
            "plan_vs_run": summary([rel_error(r.after.planned_cost, r.after.cost) for r in rows]),
            "plan_vs_expected_run": summary([rel_error(r.after.planned_cost, expected_cost(r.after)) for r in rows]),
            "measured_prompts_vs_run": summary(
                [rel_error(plan_with_prompts(r.after, prompts), r.after.cost) for r in rows]
            ),
            "fake_rules_vs_run": summary([rel_error(plan_with_rules(r.after, truth), r.after.cost) for r in rows]),
            "expected_vs_run": summary([rel_error(expected_cost(r.after), r.after.cost) for r in rows]),
        },
    }


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
        "analysis": stage_analysis(rows, calibration, result["notes"]["calibration_runs"]),
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
            "output_rules": {
                key: {"base_tokens": rule.base_tokens, "ratio": rule.value}
                for key, rule in sorted(calibration.output_ratios.items())
            },
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
    n = data["held_out"]
    print("Per stage: median signed error of the estimate, (estimate - actual) / actual; share of the actual cost")
    print("| stage | tier | share of cost | input before | input after | output before | output after |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, s in an["stages"].items():
        print(
            f"| {name} | {s['tier']} | {pct(s['share_of_cost'])} | {pct(s['input_error_before'])} | "
            f"{pct(s['input_error_after'])} | {pct(s['output_error_before'])} | {pct(s['output_error_after'])} |"
        )
    low, high = REPLY_SPREAD
    print(
        f"\nOutput rules, tokens for a module of T tokens: learned from the {data['calibration_modules']} calibration "
        f"runs, and the fake's expected reply ({REPLY_BASE_TOKENS} + {VERBOSITY:g} x the request's input, "
        f"x {low:g}-{high:g} drawn per request) through the stages, with the prompts as sent"
    )
    print(
        "| stage | task file | learned (replies cut at max_tokens left out) "
        "| learned vs expected at the held-out modules' T | the fake's expected |"
    )
    print("|---|---:|---|---|---|")
    for name, s in an["stages"].items():
        lr, fr, d = s["learned_rule"], s["fake_rule"], s["learned_vs_fake"]
        print(
            f"| {name} | {s['task_file_ratio']:g} x T | {lr['base']:.0f} + {lr['ratio']:.3f} x T | "
            f"{pct(d['median'])} (from {pct(d['min'])} to {pct(d['max'])}) | "
            f"{fr['base']:.0f} + {fr['ratio']:.3f} x T |"
        )
    print("\nPrompt tokens per stage (input - the module - the outputs it reads, as the fake counted them, after):")
    print(
        "| stage | template estimate | measured median | min-max "
        "| replies cut at max_tokens: calibration / before / after |"
    )
    print("|---|---:|---:|---|---|")
    for name, s in an["stages"].items():
        p = s["prompt_tokens"]
        print(
            f"| {name} | {p['template']} | {p['median']:.0f} | {p['min']}-{p['max']} | "
            f"{s['cut_calibration']} of {data['calibration_modules']} / {s['cut_before']} of {n} / "
            f"{s['cut_after']} of {n} |"
        )
    parts = an["cost_after_parts"]
    print("\nThe cost error after calibration taken apart (each line: an estimate against an outcome):")
    print("| estimate | against | median | p90 |")
    print("|---|---|---:|---:|")
    for what, against, key in (
        ("the plan's", "the run (as measured)", "plan_vs_run"),
        (
            "the plan's",
            "the run with each reply at the fake's expected length (the spread taken out)",
            "plan_vs_expected_run",
        ),
        (
            "the plan's, its prompts as long as the fake counted them (the median per stage)",
            "the run",
            "measured_prompts_vs_run",
        ),
        ("the plan's, its output rules replaced by the fake's", "the run", "fake_rules_vs_run"),
        (
            "the fake's expected cost (exact tokens, the fake's own rule)",
            "the run (the spread alone)",
            "expected_vs_run",
        ),
    ):
        print(f"| {what} | {against} | {pct(parts[key]['median'])} | {pct(parts[key]['p90'])} |")
    alone, measured = parts["expected_vs_run"]["p90"], parts["plan_vs_run"]["p90"]
    print(
        f"The fake's seeded spread alone misses by {pct(alone)} at the 90th percentile, "
        f"{alone / measured * 100:.0f}% of the measured {pct(measured)}: an estimate that knew the fake's rule and "
        f"the module's exact tokens would miss by as much"
    )
    rm = data["calibration"]["runs_module_tokens_error"]
    print(
        f"\nModule tokens a calibration run implies (first stage's input - the template's prompt estimate) against "
        f"the exact count: median {pct(rm['median_signed'])} (from {pct(rm['min'])} to {pct(rm['max'])}, "
        f"{rm['n']} runs); the output rules learned from runs are fitted against these"
    )
    rates = "; ".join(
        f"{lang} {r['tokens_per_line']:.1f} tokens/line, {r['tokens_per_byte']:.4f} tokens/byte ({r['files']} files)"
        for lang, r in data["calibration"]["languages"].items()
    )
    print(f"Calibration: {rates}")
    print(
        "Learned output rules: "
        + ", ".join(
            f"{k.split('/', 1)[1]} {v['base_tokens']} + {v['ratio']:.3f} x T"
            for k, v in data["calibration"]["output_rules"].items()
        )
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
