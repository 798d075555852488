"""`attune scan --json`'s document: a row per file and totals, built file by file so
the CLI can price files while the workers are still counting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attune.models.advice.context import EstimateContext
from attune.models.advice.rows import report_for_loc
from attune.models.pricing.pipeline import DEFAULT_TASK

if TYPE_CHECKING:
    from attune.models.loc.counter import LocResult
    from attune.models.loc.scan import ScanResult


def _empty_total() -> dict[str, Any]:
    return {"files": 0, "lines": 0, "tokens": 0, "monetary_cost": 0.0}


def _add(total: dict[str, Any], row: dict[str, Any]) -> None:
    total["files"] += 1
    total["lines"] += row["lines"]
    total["tokens"] += row["tokens"]
    total["monetary_cost"] += row["monetary_cost"]


def _rounded(total: dict[str, Any]) -> dict[str, Any]:
    return {**total, "monetary_cost": round(total["monetary_cost"], 6)}


class ReportBuilder:
    """Rows and totals of `attune scan --json`.

    A row is ``rows.report_for_loc`` (the same row `attune auth recommend` prints).
    Uncalibrated, it depends only on the code lines and the generated flag, so each
    distinct pair is priced once and copied per path; a calibrated language's rows
    depend on the bytes too."""

    def __init__(self, context: EstimateContext, task: str = DEFAULT_TASK) -> None:
        self._context = context
        self._task = task
        self._calibrated = set(context.calibration.languages) if context.calibration is not None else set()
        self._priced: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.rows: list[dict[str, Any]] = []

    def add(self, rel: str, loc: LocResult) -> None:
        key: tuple[Any, ...] = (loc.code_lines, loc.generated)
        if loc.language in self._calibrated:
            key = (*key, loc.language, loc.size_bytes)
        row = self._priced.get(key)
        if row is None:
            row = self._priced[key] = report_for_loc(rel, loc, self._context, self._task)
        self.rows.append({**row, "path": rel})

    def finish(self, result: ScanResult) -> dict[str, Any]:
        """The document: root, rows sorted by path, totals per size category
        and per mode the plan offers (and overall), skipped files with their reasons."""
        rows = sorted(self.rows, key=lambda row: row["path"])
        by_category = {c: _empty_total() for c in ("small", "medium", "large")}
        # only the modes the plan offers: no subscription total for a plan without quota
        by_mode = {m.value: _empty_total() for m in self._context.strategy.offered_modes}
        overall = _empty_total()
        for row in rows:
            _add(by_category.setdefault(row["category"], _empty_total()), row)
            _add(by_mode.setdefault(row["mode"], _empty_total()), row)
            _add(overall, row)
        return {
            "root": str(result.root),
            "task": self._task,
            "files": rows,
            "totals": {
                "by_category": {k: _rounded(v) for k, v in by_category.items()},
                "by_mode": {k: _rounded(v) for k, v in by_mode.items()},
                **_rounded(overall),
            },
            "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
            "calibration_problem": self._context.calibration_problem,
        }


__all__ = ["ReportBuilder"]
