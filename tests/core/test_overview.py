"""The workspace summary (the overview's data): every file `attune scan` lists, with
its mode, lens text and each task's cost; totals; the count cache that makes an
unchanged workspace cheap to summarise again; cancelling."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from attune.models.advice import EstimateContext, advise, lens_summary
from attune.models.loc.scan import scan_tree
from attune.models.overview import SummaryCancelled, counts_db_path, workspace_summary
from attune.models.pricing.pipeline import task_names
from attune.models.strategy.model import AuthStrategy, SubscriptionTier


def context(tier: SubscriptionTier = SubscriptionTier.PRO) -> EstimateContext:
    return EstimateContext(AuthStrategy(subscription_tier=tier))


def code(lines: int) -> str:
    return "".join(f"value_{i} = {i}\n" for i in range(lines))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "big.py").write_text(code(3_000))
    (root / "src" / "small.py").write_text(code(12))
    (root / "src" / "empty.py").write_text("")  # 0 lines, 0 tokens: still a tile
    (root / "src" / "only_comments.js").write_text("// nothing but a comment\n")
    (root / "top.py").write_text(code(40))
    (root / "notes.txt").write_text("not source\n")
    (root / "blob.py").write_bytes(b"\x00\x01\x02binary")
    return root


def many_files(root: Path, count: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / f"m{i:04d}.py").write_text(code(i % 50))
    return root


def test_every_listed_file_has_a_row_with_its_costs_and_lens(tree):
    ctx = context()
    summary = workspace_summary(tree, context=ctx)

    listed = [rel for rel, _ in scan_tree(tree).files]
    assert [row["path"] for row in summary["files"]] == listed
    assert set(listed) == {"src/pkg/big.py", "src/small.py", "src/empty.py", "src/only_comments.js", "top.py"}
    rows = {row["path"]: row for row in summary["files"]}
    assert rows["src/empty.py"]["tokens"] == 0 and rows["src/only_comments.js"]["lines"] == 0
    assert rows["src/pkg/big.py"]["folder"] == "src/pkg" and rows["top.py"]["folder"] == ""
    assert summary["root"] == str(tree.resolve()) and summary["task"] == "document"
    assert summary["tasks"] == list(task_names())
    assert summary["modes_offered"] == ["subscription", "api"]
    assert summary["skipped"] == [{"path": "blob.py", "reason": "binary"}]

    big = rows["src/pkg/big.py"]
    assert big["mode"] == "subscription" and big["category"] == "large" and big["language"] == "Python"
    assert set(big["costs"]) == set(task_names()) and all(cost > 0 for cost in big["costs"].values())
    advice = advise(ctx, 3_000, language="Python", size_bytes=(tree / "src/pkg/big.py").stat().st_size)
    assert big["lens"] == lens_summary(advice, generated=False)
    assert big["tokens"] == advice.tokens.tokens and big["tokens_basis"] == advice.tokens.basis

    totals = summary["totals"]
    assert totals["files"] == 5 and totals["lines"] == sum(row["lines"] for row in summary["files"])
    assert totals["by_mode"]["subscription"]["files"] == 1 and totals["by_mode"]["api"]["files"] == 4
    assert totals["by_category"]["large"]["costs"]["review"] == big["costs"]["review"]
    assert sum(t["files"] for t in totals["by_category"].values()) == 5


def test_the_task_chosen_is_the_one_the_lens_quotes(tree):
    summary = workspace_summary(tree, context=context(), task="review")
    row = next(row for row in summary["files"] if row["path"] == "top.py")
    assert summary["task"] == "review"
    assert row["lens"].endswith(f"API ≈ ${row['costs']['review']:.4f}")
    with pytest.raises(ValueError, match="unknown task"):
        workspace_summary(tree, context=context(), task="nope")


@pytest.mark.parametrize("tier", [SubscriptionTier.API_ONLY, SubscriptionTier.FREE])
def test_a_plan_without_quota_has_no_subscription_anywhere(tree, tier):
    summary = workspace_summary(tree, context=context(tier))
    assert summary["modes_offered"] == ["api"]
    assert list(summary["totals"]["by_mode"]) == ["api"]
    assert "subscription" not in json.dumps(summary).lower()


def test_an_unchanged_tree_is_answered_from_the_count_cache(tree):
    first = workspace_summary(tree, context=context())
    second = workspace_summary(tree, context=context())

    assert first["cache"]["hits"] == 0 and first["cache"]["misses"] >= 5
    assert second["cache"]["hits"] == 5
    assert second["files"] == first["files"]
    assert counts_db_path().is_file()


def test_a_changed_file_is_counted_again_and_a_deleted_one_pruned(tree):
    workspace_summary(tree, context=context())
    small = tree / "src" / "small.py"
    small.write_text(code(30))
    os.utime(small, ns=(1, 1))  # even an older mtime: size and mtime are the key
    (tree / "top.py").unlink()

    summary = workspace_summary(tree, context=context())

    rows = {row["path"]: row for row in summary["files"]}
    assert rows["src/small.py"]["lines"] == 30 and "top.py" not in rows
    assert summary["cache"]["hits"] == 3
    with sqlite3.connect(counts_db_path()) as conn:
        cached = {path for (path,) in conn.execute("SELECT path FROM counts")}
    assert str(tree.resolve() / "top.py") not in cached
    assert str(tree.resolve() / "src" / "small.py") in cached


def test_a_corrupt_cache_is_set_aside_and_rebuilt(tree, caplog):
    db = counts_db_path()
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"this is not a database" * 100)

    with caplog.at_level(logging.WARNING):
        summary = workspace_summary(tree, context=context())

    assert len(summary["files"]) == 5 and summary["cache"]["hits"] == 0
    kept = [p for p in db.parent.iterdir() if p.name.startswith("counts.db.corrupt-")]
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"this is not a database")
    warnings = [r.getMessage() for r in caplog.records if "count cache" in r.getMessage()]
    assert len(warnings) == 1 and str(kept[0]) in warnings[0]
    assert workspace_summary(tree, context=context())["cache"]["hits"] == 5


def test_without_the_cache_nothing_is_stored(tree):
    summary = workspace_summary(tree, context=context(), use_cache=False)
    assert summary["cache"] is None and len(summary["files"]) == 5
    assert not counts_db_path().exists()


def test_cancel_stops_the_walk_and_stores_nothing(tmp_path):
    root = many_files(tmp_path / "many", 400)
    cancel = threading.Event()
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        cancel.set()  # cancelled as soon as the first files are counted

    with pytest.raises(SummaryCancelled):
        workspace_summary(root, context=context(), progress=progress, cancel=cancel, workers=1)

    assert len(seen) == 1 and seen[0][0] < seen[0][1] == 400
    again = workspace_summary(root, context=context())
    assert again["cache"]["hits"] == 0 and len(again["files"]) == 400


def test_a_cancel_before_the_start_counts_nothing(tree):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(SummaryCancelled):
        workspace_summary(tree, context=context(), cancel=cancel)
    assert not counts_db_path().exists()


def test_a_missing_root_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        workspace_summary(tmp_path / "nowhere", context=context())
