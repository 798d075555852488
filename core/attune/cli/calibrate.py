"""`attune calibrate [DIR] [--sample N] [--yes] [--apply] [--json]`: count a stratified
sample of DIR's files exactly with Anthropic's free count_tokens endpoint, learn
tokens per line and per byte per language, fold in what the runs of `attune run`
taught (module tokens, output ratios per stage), and keep it in calibration.json.

It uploads source code, so it asks first on a terminal and elsewhere needs --yes;
nothing is uploaded before that. `--from-runs` learns from the runs alone (no upload,
no question). `--apply` writes the folder's tokens per line into the strategy
(backed up first). `--reset` moves an unusable calibration.json aside first; without
it such a file stops the command and is left untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune.cli.common import EXIT_OK, EXIT_RUNTIME, CliError, UsageError, print_json, stderr_is_terminal

if TYPE_CHECKING:
    from attune.models.calibration import Calibration, CountOutcome, RunsLesson, Sample
    from attune.models.strategy.backups import ChangeResult

DEFAULT_SAMPLE = 40  # attune.models.calibration.sampling.DEFAULT_SAMPLE, without importing it
MAX_SAMPLE = 1000
API_KEY_ENV = "ANTHROPIC_API_KEY"


def _sample_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= MAX_SAMPLE:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_SAMPLE:,}, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    calibrate = subparsers.add_parser(
        "calibrate",
        help="measure tokens per line per language (count_tokens) and output ratios (your runs)",
        description="Counts a sample of DIR's source files (stratified by language and size) exactly with "
        "Anthropic's free count_tokens endpoint, learns tokens per line and per byte per language and, from "
        "the runs of `attune run`, each task stage's output ratio; keeps them in calibration.json. It uploads "
        "source code: it asks first on a terminal, elsewhere it needs --yes.",
    )
    calibrate.add_argument("dir", nargs="?", metavar="DIR", help="the folder to sample (default: the current one)")
    calibrate.add_argument(
        "--sample",
        type=_sample_size,
        default=DEFAULT_SAMPLE,
        metavar="N",
        help=f"count at most N files (default {DEFAULT_SAMPLE}; 1 to {MAX_SAMPLE:,})",
    )
    calibrate.add_argument("--yes", "-y", action="store_true", help="upload without asking")
    calibrate.add_argument(
        "--from-runs", action="store_true", help="learn from the runs of `attune run` only: nothing is uploaded"
    )
    calibrate.add_argument(
        "--apply",
        action="store_true",
        help="write the calibrated tokens per line into the strategy (backed up first)",
    )
    calibrate.add_argument(
        "--reset", action="store_true", help="move calibration.json aside (timestamped) first and start a new one"
    )
    calibrate.add_argument("--json", action="store_true", help="print what was learned as JSON")
    calibrate.set_defaults(func=cmd_calibrate)


# ---- progress and questions (stderr) -------------------------------------------------------


class _Progress:
    """``counted 12/40 files`` on stderr: one line rewritten on a terminal, else every
    tenth file and the last."""

    def __init__(self) -> None:
        self.terminal = stderr_is_terminal()
        self.open = False

    def __call__(self, done: int, total: int, path: str) -> None:
        if self.terminal:
            sys.stderr.write(f"\rcounted {done}/{total} files: {path[-50:]}\033[K")
            self.open = True
        elif done % 10 == 0 or done == total:
            sys.stderr.write(f"counted {done}/{total} files\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.open:
            sys.stderr.write("\n")
            self.open = False


def _consent(sample: Sample) -> bool:
    from attune.models.formatting import format_count, plural

    size = format_count(max(1, round(sample.total_bytes / 1024)))
    sys.stderr.write(
        f"Upload {plural(len(sample.files), 'file')} ({size} KB) of source code to Anthropic's count_tokens "
        "endpoint to count tokens exactly? [y/N] "
    )
    sys.stderr.flush()
    answer = sys.stdin.readline()  # Ctrl-C here: "interrupted", exit 130, nothing uploaded
    return answer.strip().lower() in ("y", "yes")


# ---- the command --------------------------------------------------------------------------


def _lesson() -> RunsLesson:
    from attune.models.calibration import learn_from_runs
    from attune.models.telemetry.store import get_telemetry_store

    return learn_from_runs(get_telemetry_store(read_only=True))


def cmd_calibrate(args: argparse.Namespace) -> int:
    from attune.cli.common import stdin_is_terminal

    if args.from_runs and args.dir is not None:
        raise UsageError("--from-runs learns from the runs alone; it takes no DIR")
    if not args.from_runs:
        if not args.yes and not stdin_is_terminal():
            raise UsageError(
                "refusing to upload source code without consent: no terminal to ask on. "
                "Pass --yes to count the sample with count_tokens (or --from-runs to upload nothing)."
            )
        if not os.environ.get(API_KEY_ENV, "").strip():
            raise CliError(f"no Anthropic API key: set {API_KEY_ENV} to count tokens (or use --from-runs)")
    from attune.models.calibration import load_calibration, set_aside_calibration

    moved = set_aside_calibration() if args.reset else None
    if args.reset:
        sys.stderr.write(
            f"Moved the calibration aside to {moved}\n" if moved else "No calibration file to move aside.\n"
        )
    stored = load_calibration()  # an unusable file stops here (CalibrationFileError), untouched
    if args.from_runs:
        return _finish(args, stored, None, None, _lesson(), moved)
    return _count(args, stored, moved)


def _count(args: argparse.Namespace, stored: Calibration, moved: Path | None) -> int:
    from attune.models.calibration import count_files, sample_files

    root = Path(args.dir or ".")
    if not root.is_dir():
        raise UsageError(f"{root}: not a folder")
    sys.stderr.write(f"Scanning {root.resolve()} ...\n")
    sample = sample_files(root, args.sample)
    if not sample.files:
        raise CliError(f"{sample.root}: no source files to sample (nothing was uploaded)")
    if not args.yes and not _consent(sample):
        sys.stderr.write("Nothing was uploaded.\n")
        return EXIT_OK
    from attune.cli.otel import exported

    progress = _Progress()
    try:
        outcome = exported(count_files, sample.files, progress=progress)  # spans exported when OTEL_* asks
    except Exception as exc:
        from attune.models.llm.errors import ProviderError

        if isinstance(exc, ProviderError):  # a refused key: no file could be counted
            raise CliError(f"count_tokens failed: {exc.message}") from None
        raise
    finally:
        progress.close()
    try:
        lesson = _lesson()
    except Exception as exc:  # the runs store is unusable: the counts still teach
        from attune.models.errors import AttuneError

        if not isinstance(exc, AttuneError):
            raise
        sys.stderr.write(f"attune: the runs were not read: {exc}\n")
        lesson = None
    return _finish(args, stored, sample, outcome, lesson, moved)


def _finish(
    args: argparse.Namespace,
    stored: Calibration,
    sample: Sample | None,
    outcome: CountOutcome | None,
    lesson: RunsLesson | None,
    moved: Path | None,
) -> int:
    from attune.models.calibration import calibrate_from_counts, save_calibration

    learned = calibrate_from_counts(outcome, lesson, sampled_from=str(sample.root) if sample is not None else None)
    merged = stored.merged(learned)
    path = save_calibration(merged) if not learned.empty else None
    stopped = outcome.stopped if outcome is not None else None
    multiplier, change, not_applied = _multiplier(args, learned, sample, stopped)
    if args.json:
        print_json(_document(path, merged, learned, sample, outcome, lesson, multiplier, change, not_applied, moved))
    else:
        _print_report(path, merged, learned, sample, outcome, lesson, multiplier, change, not_applied)
    if stopped is not None:
        kept = len(outcome.counted) if outcome is not None else 0
        sys.stderr.write(
            f"attune: counting stopped early: {stopped}. The {kept} file(s) counted so far are kept"
            f"{f' in {path}' if path else ''}; run it again later to count the rest.\n"
        )
        return EXIT_RUNTIME
    if learned.empty:
        if args.from_runs:  # not a failure: there is nothing to learn from yet
            sys.stderr.write(
                "Nothing learned: no run of `attune run` has finished a stage that reads its file yet; "
                "calibration.json was not changed.\n"
            )
            return EXIT_OK
        sys.stderr.write("attune: nothing learned: no file was counted; calibration.json was not changed.\n")
        return EXIT_RUNTIME
    return EXIT_OK


def _multiplier(
    args: argparse.Namespace, learned: Calibration, sample: Sample | None, stopped: str | None
) -> tuple[float | None, ChangeResult | None, str | None]:
    """(the folder's tokens per line, what --apply changed, why it was not applied)."""
    from attune.models.calibration import apply_multiplier, directory_multiplier

    if not learned.languages:
        return None, None, "no language was calibrated" if args.apply else None
    weights = sample.population if sample is not None else None
    value = directory_multiplier(learned.languages, weights)
    if not args.apply:
        return value, None, None
    if stopped is not None:
        return value, None, "counting stopped early"
    try:
        return value, apply_multiplier(value), None
    except ValueError as exc:
        return value, None, str(exc)


# ---- the report ----------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    return [
        "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()
        for cells in [headers, *rows]
    ]


def _g(value: float) -> str:
    return f"{value:.3g}" if value < 1 else f"{value:.1f}"


def _interval(rate: Any) -> str:
    return f"{_g(rate.value)} ({_g(rate.low)}–{_g(rate.high)})"


def _task_ratio(key: str) -> float | None:
    from attune.models.pricing.pipeline import get_task

    task, _, stage = key.partition("/")
    try:
        return get_task(task).stage(stage).output_ratio
    except (KeyError, ValueError):
        return None


def _updated_languages(merged: Calibration, learned: Calibration) -> set[str]:
    """The languages this calibration changed (rates learned from runs alone do not
    replace rates resting on exact counts: ``Calibration.merged``)."""
    return {language for language, rates in learned.languages.items() if merged.languages.get(language) == rates}


def _print_report(
    path: Path | None,
    merged: Calibration,
    learned: Calibration,
    sample: Sample | None,
    outcome: CountOutcome | None,
    lesson: RunsLesson | None,
    multiplier: float | None,
    change: ChangeResult | None,
    not_applied: str | None,
) -> None:
    lines: list[str] = []
    if sample is not None and outcome is not None:
        lines.append(
            f"Counted {len(outcome.counted)} of {len(sample.files)} sampled files of {sample.root} exactly "
            f"(count_tokens, {outcome.model})."
        )
        lines.extend(f"  skipped {rel}: {reason}" for rel, reason in outcome.skipped)
    if lesson is not None:
        lines.append(f"Read {lesson.runs} run(s) of `attune run`.")
    updated = _updated_languages(merged, learned)
    if merged.languages:
        rows = [
            [
                language + (" *" if language in updated else ""),
                str(rates.files),
                _interval(rates.tokens_per_line),
                _interval(rates.tokens_per_byte),
                rates.source,
                rates.measured_at.strftime("%Y-%m-%d"),
            ]
            for language, rates in sorted(merged.languages.items())
        ]
        headers = ["LANGUAGE", "FILES", "TOKENS/LINE (P10–P90)", "TOKENS/BYTE (P10–P90)", "SOURCE", "MEASURED"]
        lines += ["", *_table(headers, rows, right={1})]
    if merged.output_ratios:
        rows = []
        for key, ratio in sorted(merged.output_ratios.items()):
            default = _task_ratio(key)
            rule = f"{ratio.base_tokens:,} + {ratio.value:.3g} × T" if ratio.base_tokens else f"{ratio.value:.3g} × T"
            rows.append([key, rule, str(len(ratio.samples)), "-" if default is None else f"{default:g} × T"])
        lines += ["", *_table(["TASK/STAGE", "OUTPUT TOKENS", "RUNS", "TASK FILE"], rows, right={1, 2, 3})]
    if updated:
        lines.append("")
        lines.append("* updated now")
    if multiplier is not None:
        where = "this folder" if sample is not None else "the files of the runs"
        lines.append(f"Tokens per line for {where} (file-weighted): {multiplier:g}")
    if change is not None:
        old = (change.previous or {}).get("loc_to_tokens_multiplier")
        lines.append(
            f"Applied: loc_to_tokens_multiplier {old:g} -> {multiplier:g} in {change.path} (backup: {change.backup})"
            if isinstance(old, (int, float)) and multiplier is not None
            else f"Applied to {change.path} (backup: {change.backup})"
        )
    elif not_applied is not None:
        lines.append(f"Not applied: {not_applied}.")
    if path is not None:
        lines.append(f"Saved to {path}")
    sys.stdout.write("\n".join(lines) + "\n")


def _document(
    path: Path | None,
    merged: Calibration,
    learned: Calibration,
    sample: Sample | None,
    outcome: CountOutcome | None,
    lesson: RunsLesson | None,
    multiplier: float | None,
    change: ChangeResult | None,
    not_applied: str | None,
    moved: Path | None,
) -> dict[str, Any]:
    from attune.models.calibration import calibration_path

    return {
        "calibration_file": str(path or calibration_path()),
        "saved": path is not None,
        "reset_moved_to": str(moved) if moved else None,
        "sampled_from": str(sample.root) if sample is not None else None,
        "model": outcome.model if outcome is not None else None,
        "sampled": len(sample.files) if sample is not None else 0,
        "counted": len(outcome.counted) if outcome is not None else 0,
        "skipped": [{"path": rel, "reason": reason} for rel, reason in outcome.skipped] if outcome else [],
        "stopped": outcome.stopped if outcome is not None else None,
        "runs_read": lesson.runs if lesson is not None else 0,
        "updated_languages": sorted(_updated_languages(merged, learned)),
        "languages": {k: v.model_dump(mode="json") for k, v in sorted(merged.languages.items())},
        "output_ratios": {
            key: {
                "value": r.value,
                "base_tokens": r.base_tokens,
                "runs": len(r.samples),
                "task_file_ratio": _task_ratio(key),
            }
            for key, r in sorted(merged.output_ratios.items())
        },
        "multiplier": None
        if multiplier is None
        else {
            "value": multiplier,
            "applied": change is not None,
            "not_applied": not_applied,
            "strategy": str(change.path) if change is not None else None,
            "previous": (change.previous or {}).get("loc_to_tokens_multiplier") if change is not None else None,
            "backup": str(change.backup) if change is not None and change.backup else None,
        },
    }
