"""The workspace picture's data: every file of a tree with its size, recommended
mode, lens text and each task's cost, and totals per mode and per size category
(``workspace_summary``), counted behind a persistent count cache (``counts.db``)."""

from __future__ import annotations

from attune.models.overview.cache import CountCache, counts_db_path
from attune.models.overview.summary import CATEGORIES, CancelFlag, SummaryCancelled, workspace_summary

__all__ = ["CATEGORIES", "CancelFlag", "CountCache", "SummaryCancelled", "counts_db_path", "workspace_summary"]
