"""Every file the library reads is a regular file of bounded size, and an unusable file
set aside never replaces one set aside before (docs/limits.md)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from attune.models.breaker.circuit_breaker import CircuitBreaker
from attune.models.breaker.stores.sqlite import SQLiteBreakerStore
from attune.models.errors import AttuneError, FileSizeLimitError, NotRegularFileError
from attune.models.loc.counter import BinaryFileError, FileTooLargeError, LocError, analyze_file
from attune.models.pricing.registry import PricingFileError, get_model
from attune.models.strategy.backups import reset_strategy
from attune.models.strategy.model import AuthStrategy, StrategyFileError
from attune.models.telemetry.records import TelemetryStoreError
from attune.models.telemetry.store import TelemetryStore

# A FIFO with no writer: an open of it without the rule blocks forever, inside SQLite
# too, where no signal can interrupt it; the thread method ends such a run loudly.
pytestmark = [
    pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs"),
    pytest.mark.timeout(30, method="thread"),
]


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def test_a_strategy_file_that_is_a_fifo_is_refused_naming_it(attune_home: Path) -> None:
    fifo(attune_home / "auth_strategy.json")
    with pytest.raises(StrategyFileError, match=r"auth_strategy\.json: not a regular file \(a FIFO\)"):
        AuthStrategy.load()


def test_a_strategy_file_over_one_mib_is_refused_unread(attune_home: Path) -> None:
    path = attune_home / "auth_strategy.json"
    path.write_text(json.dumps({"metadata": {"pad": "x" * (1024 * 1024)}}))
    size = path.stat().st_size
    with pytest.raises(StrategyFileError, match=f"is {size:,} bytes; the limit is 1 MiB"):
        AuthStrategy.load()
    just_under = {"metadata": {"pad": "x" * (1024 * 1024 - 100)}}
    path.write_text(json.dumps(just_under))
    assert AuthStrategy.load().metadata == just_under["metadata"]


def test_reset_over_a_fifo_moves_it_aside_instead_of_hanging(attune_home: Path) -> None:
    path = fifo(attune_home / "auth_strategy.json")
    result = reset_strategy()
    assert result.corrupt_moved_to is not None and ".corrupt-" in result.corrupt_moved_to.name
    assert not path.exists()


@pytest.mark.parametrize("kind", ["fifo", "too large"])
def test_a_pricing_file_that_is_not_a_small_regular_file_is_an_error_naming_it(attune_home: Path, kind: str) -> None:
    path = attune_home / "pricing.json"
    if kind == "fifo":
        fifo(path)
        problem = r"not a regular file \(a FIFO\)"
    else:
        path.write_text(json.dumps({"models": {}, "as_of": "x" * (1024 * 1024)}))
        problem = r"is [\d,]+ bytes; the limit is 1 MiB"
    with pytest.raises(PricingFileError, match=f"pricing.json: {problem}"):
        get_model("anthropic", "cheap")


def test_the_line_counter_refuses_a_fifo_and_its_errors_are_attune_errors(tmp_path: Path) -> None:
    with pytest.raises(NotRegularFileError, match=r"f\.py: not a regular file \(a FIFO\)") as info:
        analyze_file(fifo(tmp_path / "f.py"))
    assert isinstance(info.value, OSError)  # callers that skip unreadable files skip it
    binary = tmp_path / "nul.py"
    binary.write_bytes(b"\x00" * 100)
    with pytest.raises(BinaryFileError) as binary_info:
        analyze_file(binary)
    assert isinstance(binary_info.value, AttuneError) and isinstance(binary_info.value, LocError)
    assert issubclass(FileTooLargeError, AttuneError) and issubclass(FileSizeLimitError, AttuneError)


def test_a_breaker_database_that_is_a_fifo_is_refused_before_sqlite_opens_it(tmp_path: Path) -> None:
    path = fifo(tmp_path / "breaker.db")
    breaker = CircuitBreaker(store=f"sqlite:///{path}")
    breaker.record_failure("anthropic", "cheap")  # degrades to process-local state
    health = breaker.store_health()
    assert health["reachable"] is False and "not a regular file (a FIFO)" in health["error"]
    read_only = SQLiteBreakerStore(path, read_only=True)
    with pytest.raises(Exception, match=r"not a regular file \(a FIFO\)"):
        read_only.get_all()
    assert path.exists() and not list(tmp_path.glob("breaker.db.corrupt-*"))  # refused, not moved


@pytest.mark.parametrize("read_only", [False, True])
def test_a_telemetry_database_that_is_a_fifo_is_refused(tmp_path: Path, read_only: bool) -> None:
    path = fifo(tmp_path / "telemetry.db")
    with pytest.raises(TelemetryStoreError, match=r"telemetry\.db: cannot open .*not a regular file \(a FIFO\)"):
        TelemetryStore(path, read_only=read_only).workflows()


def corrupt_breaker_db(path: Path, text: bytes) -> None:
    path.write_bytes(text * 200)
    store = SQLiteBreakerStore(path)
    try:
        store.get_all()  # opens it: finds the corruption, keeps the file aside, starts afresh
    finally:
        store.close()
    for side in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        side.unlink(missing_ok=True)


def test_two_corrupt_breaker_databases_in_one_second_are_both_kept(tmp_path: Path) -> None:
    db = tmp_path / "breaker.db"
    texts = [b"first note, not a database. ", b"second note, not a database. ", b"third note. "]
    for text in texts:
        corrupt_breaker_db(db, text)
    kept = sorted(p for p in tmp_path.glob("breaker.db.corrupt-*") if not p.name.endswith(("-wal", "-shm")))
    assert sorted(p.read_bytes() for p in kept) == sorted(t * 200 for t in texts)
    assert [p.name for p in kept] == sorted(p.name for p in kept)  # names sort in time order


def test_two_corrupt_strategy_files_in_one_second_are_both_kept(attune_home: Path) -> None:
    path = attune_home / "auth_strategy.json"
    moved = []
    for text in ("{first", "{second", "{third"):
        path.write_text(text)
        moved.append(reset_strategy().corrupt_moved_to)
    assert [p.read_text() for p in moved] == ["{first", "{second", "{third"]
    assert sorted(p.name for p in moved) == [p.name for p in moved]


def test_the_corrupt_names_of_the_strategy_and_the_breaker_follow_one_rule(attune_home: Path, tmp_path: Path) -> None:
    (attune_home / "auth_strategy.json").write_text("{x")
    strategy_aside = reset_strategy().corrupt_moved_to
    corrupt_breaker_db(tmp_path / "breaker.db", b"not a database. ")
    (breaker_aside,) = (p for p in tmp_path.glob("breaker.db.corrupt-*") if not p.name.endswith(("-wal", "-shm")))
    pattern = r"\.corrupt-\d{8}T\d{6}\.\d{9}Z$"
    assert re.search(pattern, strategy_aside.name) and re.search(pattern, breaker_aside.name)
