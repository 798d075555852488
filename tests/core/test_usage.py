"""attune.models.usage over real log files in Claude Code's documented shape:
deduplication, sidechain replays, partial and bad lines, files that grow, shrink,
are replaced or go away, the cache across readers and after corruption, the roots."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from attune.models.strategy.model import SubscriptionBlock
from attune.models.usage import TokenCounts, UsageReader, log_roots, subscription_block
from support.claude_logs import ClaudeLogs, assistant_line, user_line

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def reader_for(logs: ClaudeLogs) -> UsageReader:
    return UsageReader([logs.root])


def total_tokens(reader: UsageReader) -> int:
    return reader.total().tokens.total


def line(message_id: str, request_id: str, at: datetime = T0, **fields: object) -> str:
    return assistant_line(message_id=message_id, request_id=request_id, timestamp=at, **fields)  # type: ignore[arg-type]


# ---- what counts -----------------------------------------------------------------------


def test_each_message_counts_once_however_often_it_is_logged(claude_logs: ClaudeLogs) -> None:
    # Claude Code logs a message once per content block; a resumed session copies it
    # into a new file.
    first = claude_logs.session_path(session_id="a")
    second = claude_logs.session_path(session_id="b")
    claude_logs.write(first, line("msg_1", "req_1"), line("msg_1", "req_1"), line("msg_2", "req_2"))
    claude_logs.write(second, line("msg_1", "req_1"), line("msg_2", "req_2"), line("msg_3", "req_3"))
    reader = reader_for(claude_logs)
    stats = reader.refresh()
    totals = reader.total()
    assert totals.entries == 3
    assert totals.tokens == TokenCounts(input=300, output=150)
    assert stats.files == 2 and stats.new_entries == 3


def test_a_message_logged_as_it_streamed_keeps_its_largest_usage(claude_logs: ClaudeLogs) -> None:
    path = claude_logs.session_path()
    claude_logs.write(path, line("msg_1", "req_1", output_tokens=1), line("msg_1", "req_1", output_tokens=400))
    reader = reader_for(claude_logs)
    reader.refresh()
    assert reader.total().tokens.output == 400


@pytest.mark.parametrize("sidechain_first", [False, True])
def test_a_sidechain_replay_of_a_parent_message_is_not_counted_twice(
    claude_logs: ClaudeLogs, sidechain_first: bool
) -> None:
    parent = line("msg_1", "req_1", cache_read=10_000)
    replay = line("msg_1", "req_9", cache_read=10_000, sidechain=True)  # same message, new request id
    own = line("msg_2", "req_2", sidechain=True, output_tokens=7)  # the side question's own answer
    names = ("a-side", "b-main") if sidechain_first else ("b-side", "a-main")
    claude_logs.write(claude_logs.session_path(session_id=names[0]), replay, own)
    claude_logs.write(claude_logs.session_path(session_id=names[1]), parent)
    reader = reader_for(claude_logs)
    reader.refresh()
    totals = reader.total()
    assert totals.entries == 2
    assert totals.tokens.cache_read == 10_000
    assert totals.tokens.output == 50 + 7


def test_bad_lines_are_skipped_counted_and_never_stop_the_read(claude_logs: ClaudeLogs) -> None:
    path = claude_logs.session_path()
    claude_logs.write(
        path,
        line("msg_1", "req_1"),
        "this is not JSON at all",
        '{"type":"assistant","message":{"id":"msg_x","usage":{"input_tokens":"many"}},"timestamp":"2026-11-20"}',
        '{"type":"assistant","message":{"id":"msg_y","usage":{"input_tokens":1,"output_tokens":2}},"timestamp":"soon"}',
        '{"type":"assistant","message":{"id":"msg_z"},"requestId":"r","timestamp":"2026-11-20T09:00:00Z"}',
        user_line(timestamp=T0),  # another kind of line: not an entry, not skipped
        line("msg_2", "req_2"),
    )
    reader = reader_for(claude_logs)
    stats = reader.refresh()
    assert stats.skipped_lines == 4
    assert reader.skipped_lines() == 4
    assert reader.total().entries == 2
    assert reader.refresh().skipped_lines == 0  # nothing read again
    assert reader.skipped_lines() == 4


def test_an_unknown_model_is_counted_in_tokens_and_not_priced(claude_logs: ClaudeLogs) -> None:
    claude_logs.write(
        claude_logs.session_path(),
        line("msg_1", "req_1", model="claude-future-9", input_tokens=1_000),
        line("msg_2", "req_2", model="claude-sonnet-4-6", input_tokens=1_000_000, output_tokens=0),
    )
    reader = reader_for(claude_logs)
    reader.refresh()
    totals = reader.total()
    assert totals.tokens.input == 1_001_000
    assert totals.unpriced_models == ("claude-future-9",)
    assert totals.cost_usd == pytest.approx(3.0)  # the priced model only: $3 per million input tokens
    by_model = {t.key: t for t in reader.by("model")}
    assert by_model["claude-future-9"].cost_usd is None


def test_cache_tokens_are_priced_from_the_input_price(claude_logs: ClaudeLogs) -> None:
    # Sonnet 4.6: $3 per million input; a cache write is 1.25x, a cache read 0.1x.
    claude_logs.write(
        claude_logs.session_path(),
        line("msg_1", "req_1", input_tokens=0, output_tokens=0, cache_creation=1_000_000, cache_read=1_000_000),
    )
    reader = reader_for(claude_logs)
    reader.refresh()
    assert reader.total().cost_usd == pytest.approx(3.0 * 1.25 + 3.0 * 0.1)


# ---- files that change -----------------------------------------------------------------


def test_a_partial_last_line_counts_once_it_is_complete(claude_logs: ClaudeLogs) -> None:
    path = claude_logs.session_path()
    whole = line("msg_2", "req_2", output_tokens=999)
    claude_logs.write(path, line("msg_1", "req_1"), whole[:40], end="")
    reader = reader_for(claude_logs)
    stats = reader.refresh()
    assert reader.total().entries == 1 and stats.skipped_lines == 0
    claude_logs.write(path, whole[40:])
    reader.refresh()
    reader.refresh()
    totals = reader.total()
    assert totals.entries == 2 and totals.tokens.output == 50 + 999


def test_lines_appended_between_reads_are_counted_once(claude_logs: ClaudeLogs) -> None:
    path = claude_logs.session_path()
    reader = reader_for(claude_logs)
    for n in range(5):
        claude_logs.write(path, claude_logs.message(T0 + timedelta(minutes=n)))
        stats = reader.refresh()
        assert stats.new_entries == 1
    assert reader.total().entries == 5
    assert reader.refresh().files_read == 0


def test_a_file_appended_while_it_is_read_ends_with_exactly_what_was_written(claude_logs: ClaudeLogs) -> None:
    path = claude_logs.session_path()
    claude_logs.write(path, *(claude_logs.message(T0, output_tokens=1) for _ in range(2_000)))
    lines = [claude_logs.message(T0, output_tokens=1) for _ in range(3_000)]
    reader = reader_for(claude_logs)
    done = threading.Event()

    def append() -> None:
        with path.open("a", encoding="utf-8") as fh:
            for text in lines:
                # half a line, then the rest: a reader may see the first half alone
                fh.write(text[:100])
                fh.flush()
                fh.write(text[100:] + "\n")
                fh.flush()
        done.set()

    writer = threading.Thread(target=append)
    writer.start()
    while not done.is_set():
        reader.refresh()
    writer.join()
    reader.refresh()
    totals = reader.total()
    assert totals.entries == 5_000
    assert totals.tokens.output == 5_000


def test_a_truncated_or_replaced_file_is_read_again(claude_logs: ClaudeLogs) -> None:
    path = claude_logs.session_path()
    claude_logs.write(path, line("msg_1", "req_1"), line("msg_2", "req_2"))
    reader = reader_for(claude_logs)
    reader.refresh()
    assert reader.total().entries == 2
    path.write_text(line("msg_3", "req_3", output_tokens=5) + "\n")  # cut and rewritten in place
    reader.refresh()
    assert reader.total().entries == 1 and reader.total().tokens.output == 5
    replacement = path.with_suffix(".tmp")
    replacement.write_text(line("msg_4", "req_4", output_tokens=6) + "\n" + line("msg_5", "req_5") + "\n")
    replacement.replace(path)  # a new file (inode) under the same name, and longer
    reader.refresh()
    totals = reader.total()
    assert totals.entries == 2 and totals.tokens.output == 56


def test_a_file_that_goes_away_takes_only_its_own_messages(claude_logs: ClaudeLogs) -> None:
    old = claude_logs.session_path(session_id="a")
    resumed = claude_logs.session_path(session_id="b")
    claude_logs.write(old, line("msg_1", "req_1"), line("msg_2", "req_2"))
    claude_logs.write(resumed, line("msg_1", "req_1"), line("msg_3", "req_3"))
    reader = reader_for(claude_logs)
    reader.refresh()
    assert reader.total().entries == 3
    old.unlink()
    reader.refresh()
    assert reader.total().entries == 2  # msg_1 is still in the resumed session


def test_the_logs_are_only_read(claude_logs: ClaudeLogs) -> None:
    path = claude_logs.session_path()
    claude_logs.write(path, line("msg_1", "req_1"))

    def snapshot() -> dict[Path, tuple[int, bytes]]:
        return {p: (p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else b"") for p in claude_logs.root.rglob("*")}

    before = snapshot()
    reader = reader_for(claude_logs)
    reader.refresh()
    reader.current_block(T0)
    assert snapshot() == before


# ---- the cache ---------------------------------------------------------------------------


def test_another_reader_starts_where_the_last_one_stopped(claude_logs: ClaudeLogs, attune_home: Path) -> None:
    path = claude_logs.session_path()
    claude_logs.write(path, line("msg_1", "req_1"))
    reader_for(claude_logs).refresh()
    assert (attune_home / "state" / "usage.db").is_file()
    claude_logs.write(path, line("msg_2", "req_2"))
    later = reader_for(claude_logs)  # a new process would open the same cache
    stats = later.refresh()
    assert stats.new_entries == 1 and stats.files_read == 1
    assert later.total().entries == 2
    assert reader_for(claude_logs).refresh().files_read == 0


def test_a_corrupt_cache_is_set_aside_and_rebuilt_from_the_logs(
    claude_logs: ClaudeLogs, attune_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    claude_logs.write(claude_logs.session_path(), line("msg_1", "req_1"), line("msg_2", "req_2"))
    reader = reader_for(claude_logs)
    reader.refresh()
    reader.close()
    db = attune_home / "state" / "usage.db"
    for companion in (db.with_name("usage.db-wal"), db.with_name("usage.db-shm")):
        companion.unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    rebuilt = reader_for(claude_logs)
    rebuilt.refresh()
    assert rebuilt.total().entries == 2
    assert [p.name.startswith("usage.db.corrupt-") for p in db.parent.iterdir() if "corrupt" in p.name] == [True]
    assert sum("rebuilt it from the logs" in r.getMessage() for r in caplog.records) == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 2


# ---- blocks, today, summaries -------------------------------------------------------------


def stamps(logs: ClaudeLogs, *moments: datetime) -> UsageReader:
    logs.write(logs.session_path(), *(logs.message(m) for m in moments))
    reader = reader_for(logs)
    reader.refresh()
    return reader


def test_blocks_start_on_the_hour_and_a_long_gap_starts_a_new_one(claude_logs: ClaudeLogs) -> None:
    reader = stamps(
        claude_logs,
        T0,  # 09:30 -> block 09:00-14:00
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=7),  # 16:30, after a gap of 6 h -> block 16:00-21:00
    )
    blocks = reader.blocks(now=T0 + timedelta(days=1))
    assert [(b.start.hour, b.end.hour, b.entries) for b in blocks] == [(9, 14, 2), (16, 21, 1)]
    assert not any(b.is_active for b in blocks)


def test_an_entry_exactly_at_the_end_stays_in_the_block_and_one_after_starts_the_next(claude_logs: ClaudeLogs) -> None:
    start = T0.replace(minute=0)  # 09:00
    reader = stamps(
        claude_logs,
        start,
        start + timedelta(hours=4),
        start + timedelta(hours=5),  # exactly the end: ccusage keeps it in the block
        start + timedelta(hours=5, minutes=1),  # after the end -> a new block from 14:00
    )
    blocks = reader.blocks(now=start + timedelta(days=1))
    assert [(b.start.hour, b.entries) for b in blocks] == [(9, 3), (14, 1)]


def test_the_current_block_and_its_time_left(claude_logs: ClaudeLogs) -> None:
    reader = stamps(claude_logs, T0 - timedelta(hours=20), T0, T0 + timedelta(minutes=50))
    now = T0 + timedelta(hours=3, minutes=48)  # 13:18
    block = reader.current_block(now)
    assert block is not None and block.is_active
    assert (block.start, block.end) == (T0.replace(minute=0), T0.replace(minute=0) + timedelta(hours=5))
    assert block.entries == 2 and block.total_tokens == 2 * 150
    assert block.seconds_left(now) == 42 * 60
    assert reader.current_block(T0 + timedelta(hours=6)) is None  # the block has reset
    assert reader.current_block(T0 - timedelta(hours=30)) is None  # before any entry


def test_the_current_block_after_a_long_run_of_blocks(claude_logs: ClaudeLogs) -> None:
    # three days without a 5-hour gap: the blocks chain back to the first entry
    moments = [T0 + timedelta(hours=h) for h in range(0, 72, 2)]
    reader = stamps(claude_logs, *moments)
    now = moments[-1] + timedelta(minutes=1)
    block = reader.current_block(now)
    expected = [b for b in reader.blocks(now=now) if b.is_active]
    assert block is not None and expected == [block]


def test_subscription_block_is_what_the_strategy_weighs(claude_logs: ClaudeLogs) -> None:
    reader = stamps(claude_logs, T0)
    now = T0 + timedelta(hours=1)
    assert subscription_block(reader, now) == SubscriptionBlock(
        used_tokens=150, resets_at=T0.replace(minute=0) + timedelta(hours=5)
    )
    assert subscription_block(reader, T0 + timedelta(hours=6)) is None
    assert subscription_block(reader.current_block(now), now) == subscription_block(reader, now)


def test_today_and_the_summaries(claude_logs: ClaudeLogs) -> None:
    now = datetime.now().astimezone().replace(hour=12, minute=0, second=0, microsecond=0)
    claude_logs.write(claude_logs.session_path("-w-a", "a"), claude_logs.message(now - timedelta(hours=1), cwd="/w/a"))
    claude_logs.write(
        claude_logs.session_path("-w-b", "b"),
        claude_logs.message(now - timedelta(days=2), cwd="/w/b", model="claude-haiku-4-5"),
        claude_logs.message(now - timedelta(days=2, minutes=5), cwd="/w/b"),
    )
    reader = reader_for(claude_logs)
    reader.refresh()
    today = reader.today(now)
    assert today.key == now.date().isoformat() and today.entries == 1
    days = reader.by("day")
    assert [(d.key, d.entries) for d in days] == [
        ((now - timedelta(days=2)).date().isoformat(), 2),
        (now.date().isoformat(), 1),
    ]
    assert [(p.key, p.entries) for p in reader.by("project")] == [("/w/a", 1), ("/w/b", 2)]
    assert [(m.key, m.entries) for m in reader.by("model")] == [("claude-haiku-4-5", 1), ("claude-sonnet-4-6", 2)]
    assert reader.total(since=now - timedelta(days=1)).entries == 1
    assert [d.key for d in reader.by("day", since=now.date())] == [now.date().isoformat()]


# ---- where the logs are -----------------------------------------------------------------------


def test_log_roots_default_to_both_claude_folders() -> None:
    roots = log_roots({"HOME": "/home/u"})
    assert roots == [Path("/home/u/.config/claude/projects"), Path("/home/u/.claude/projects")]
    assert log_roots({"HOME": "/home/u", "XDG_CONFIG_HOME": "/x"})[0] == Path("/x/claude/projects")


def test_claude_config_dir_lists_folders_and_attune_claude_logs_overrides() -> None:
    env = {"HOME": "/home/u", "CLAUDE_CONFIG_DIR": "/a, /b/projects,,/a"}
    assert log_roots(env) == [Path("/a/projects"), Path("/b/projects")]
    env["ATTUNE_CLAUDE_LOGS"] = "/logs/one,/logs/two"
    assert log_roots(env) == [Path("/logs/one"), Path("/logs/two")]


def test_every_folder_of_claude_config_dir_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATTUNE_CLAUDE_LOGS")
    first, second = tmp_path / "one", tmp_path / "two"
    for n, folder in enumerate((first, second)):
        logs = ClaudeLogs(folder / "projects")
        logs.write(logs.session_path(), line(f"msg_{n}", f"req_{n}"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{first},{second}")
    reader = UsageReader()
    assert reader.refresh().files == 2
    assert reader.total().entries == 2


def test_readers_in_threads_and_a_second_reader_count_each_message_once(claude_logs: ClaudeLogs) -> None:
    # the language server refreshes from worker threads while `attune usage` runs
    path = claude_logs.session_path()
    shared, other = reader_for(claude_logs), reader_for(claude_logs)
    written = 0
    for _ in range(5):
        claude_logs.write(path, *(claude_logs.message(T0, output_tokens=1) for _ in range(200)))
        written += 200
        workers = [threading.Thread(target=r.refresh) for r in (shared, shared, other, other)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    for reader in (shared, other):
        reader.refresh()
        assert reader.total().entries == written
        assert reader.total().tokens.output == written
