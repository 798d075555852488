"""attune.models.runs from code: run_task and arun_task against the loopback fake API
(realistic token counts) with the real SQLite telemetry store and breaker."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from attune.models import RunError, RunProgress, arun_task, get_telemetry_store, plan_run, run_task
from support.fake_anthropic import TEST_API_KEY, FakeAnthropic, gated, realistic_tokens

SOURCE = "def area(width, height):\n    return width * height\n\n\nclass Box:\n    size = 3\n"


@pytest.fixture
def module(tmp_path: Path) -> Path:
    path = tmp_path / "shapes.py"
    path.write_text(SOURCE * 5, encoding="utf-8")
    return path


@pytest.fixture
def api(realistic_api: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", realistic_api.base_url)
    return realistic_api


def _released() -> threading.Event:
    gate = threading.Event()
    gate.set()
    return gate


def test_run_task_returns_the_output_and_reports_each_stage(api, module):
    events: list[RunProgress] = []

    result = run_task("explain", module, on_progress=events.append)

    assert result.status == "ok" and result.mode == "api"
    # the output is the last stage's reply
    assert abs(realistic_tokens(result.output) - result.stages[-1].output_tokens) <= 1
    assert [(e.event, e.stage) for e in events] == [
        ("start", "map"),
        ("end", "map"),
        ("start", "explain"),
        ("end", "explain"),
    ]
    assert events[-1].tokens_so_far == result.tokens
    assert [s.status for s in result.stages] == ["ok", "ok"]
    assert result.cost == pytest.approx(sum(s.cost for s in result.stages))
    run = get_telemetry_store().get_run(result.run_id)
    assert run is not None and run.status == "ok"


def test_setting_the_cancel_event_stops_the_stage_in_flight(api, module):
    hold = threading.Event()
    api.enqueue(gated(_released()), gated(hold))
    cancel = threading.Event()

    def cancel_during_stage_2() -> None:
        api.wait_for_requests(2)
        cancel.set()

    helper = threading.Thread(target=cancel_during_stage_2)
    helper.start()
    try:
        result = run_task("explain", module, cancel=cancel)
    finally:
        hold.set()
        helper.join()

    assert result.status == "cancelled" and result.output == ""
    assert [s.status for s in result.stages] == ["ok", "cancelled"]
    run = get_telemetry_store().get_run(result.run_id)
    assert run is not None and run.status == "cancelled"
    assert [s.status for s in run.stages] == ["ok", "pending"]
    assert [c.stage for c in get_telemetry_store().recent_calls("run:explain")] == ["map"]


async def test_an_asyncio_event_cancels_too(api, module):
    hold = threading.Event()
    api.enqueue(gated(hold))
    cancel = asyncio.Event()

    async def cancel_when_sent() -> None:
        await asyncio.to_thread(api.wait_for_requests, 1)
        cancel.set()

    try:
        result, _ = await asyncio.gather(arun_task("explain", module, cancel=cancel), cancel_when_sent())
    finally:
        hold.set()

    assert result.status == "cancelled" and [s.status for s in result.stages] == ["cancelled"]


def test_the_plan_sends_nothing_and_a_missing_key_stops_before_the_store(realistic_api, module):
    plan = plan_run("document", module)

    assert [s.stage for s in plan.estimate.stages] == ["outline", "write", "polish", "api_reference"]
    assert plan.mode == "api" and plan.lines == 20  # code lines: blank lines do not count
    with pytest.raises(RunError, match="No Anthropic API key"):
        run_task("explain", module)
    assert realistic_api.requests == []
    assert get_telemetry_store().list_runs() == []
