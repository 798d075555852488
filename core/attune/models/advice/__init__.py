"""What Attune tells a user about one file: its size, the mode to run it in and why,
its tokens (and what they rest on), and what a task over it costs.

Every face shows the same answer (`attune auth recommend`, `attune scan`, `attune run`'s
preview, the editor's lenses), built here from the strategy, the calibration file and
the subscription's current 5-hour block (``EstimateContext``).
"""

from __future__ import annotations

from attune.models.advice.context import EstimateContext, ModuleAdvice, advise, load_context
from attune.models.advice.lens import LensLine, lens_lines, lens_summary
from attune.models.advice.rows import GENERATED_CAUTION, report_for_loc
from attune.models.advice.scan_report import ReportBuilder

__all__ = [
    "GENERATED_CAUTION",
    "EstimateContext",
    "LensLine",
    "ModuleAdvice",
    "ReportBuilder",
    "advise",
    "lens_lines",
    "lens_summary",
    "load_context",
    "report_for_loc",
]
