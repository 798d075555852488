"""EmpathyLLMExecutor through the real anthropic SDK against the local fake API."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from attune.models import CircuitBreaker, EmpathyLLMExecutor, TelemetryStore, get_model
from attune.models.llm.executor import MissingAPIKeyError
from support.fake_anthropic import (
    MESSAGES_PATH,
    TEST_API_KEY,
    FakeAnthropic,
    closed_port_url,
    error,
    hang_up,
    ok,
    overloaded,
    rate_limited,
    server_error,
    slow,
)
from support.manual_clock import ManualClock

CAPABLE = get_model("anthropic", "capable")
CHEAP = get_model("anthropic", "cheap")
PREMIUM = get_model("anthropic", "premium")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def breaker(clock: ManualClock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=5, recovery_timeout_seconds=60, store="memory://", clock=clock)


@pytest.fixture
def store(tmp_path: Path) -> TelemetryStore:
    return TelemetryStore(tmp_path / "telemetry.db")


@pytest.fixture
async def executor(fake_api: FakeAnthropic, breaker: CircuitBreaker, store: TelemetryStore):
    ex = EmpathyLLMExecutor(
        telemetry_store=store, breaker=breaker, api_key=TEST_API_KEY, base_url=fake_api.base_url, timeout=5.0
    )
    yield ex
    await ex.aclose()


def rows(store: TelemetryStore, workflow: str = "default") -> list:
    """Every record the store holds for a workflow, oldest first."""
    return list(reversed(store.recent_calls(workflow, limit=1000)))


def failure_count(breaker: CircuitBreaker, tier: str) -> int:
    return breaker.get_status().get(f"anthropic:{tier}", {}).get("failure_count", 0)


# --- success ------------------------------------------------------------------------


async def test_success_returns_text_real_usage_and_registry_cost(executor, fake_api, store):
    fake_api.enqueue(ok("def add(a, b): return a + b", input_tokens=1200, output_tokens=300))

    response = await executor.run(
        "generate_code", "Write add()", system="Be terse", context={"workflow": "docs", "stage": "write"}
    )

    assert response.success, response.error
    assert response.content == "def add(a, b): return a + b"
    assert (response.model_id, response.tier, response.provider) == (CAPABLE.id, "capable", "anthropic")
    assert (response.tokens_input, response.tokens_output) == (1200, 300)
    # Sonnet: $3 in / $15 out per million tokens
    assert response.cost_estimate == pytest.approx(1200 * 3 / 1e6 + 300 * 15 / 1e6)
    sent = fake_api.requests_to(MESSAGES_PATH)
    assert len(sent) == 1
    assert sent[0].body["model"] == CAPABLE.id
    assert sent[0].body["system"] == "Be terse"
    assert sent[0].body["messages"] == [{"role": "user", "content": "Write add()"}]

    [record] = rows(store, "docs")
    assert (record.workflow, record.stage, record.task_type) == ("docs", "write", "generate_code")
    assert (record.model_id, record.tier, record.success, record.error_type) == (CAPABLE.id, "capable", True, None)
    assert (record.tokens_input, record.tokens_output) == (1200, 300)
    assert record.cost == pytest.approx(response.cost_estimate)
    assert record.latency_ms > 0


@pytest.mark.parametrize(
    "task, model", [("summarize", CHEAP), ("fix_bug", CAPABLE), ("architectural_decision", PREMIUM)]
)
async def test_task_type_picks_the_tier_model(executor, fake_api, task, model):
    response = await executor.run(task, "hello")
    assert response.success
    assert fake_api.requests[-1].model == model.id
    assert response.tier == model.tier


async def test_context_model_and_tier_overrides(executor, fake_api):
    await executor.run("summarize", "x", context={"model": PREMIUM.id})
    await executor.run("summarize", "x", context={"tier": "capable"})
    assert [r.model for r in fake_api.requests] == [PREMIUM.id, CAPABLE.id]


async def test_router_chooses_the_model_when_workflow_and_stage_are_given(fake_api, breaker, store):
    from attune.models import AdaptiveModelRouter, LLMCallRecord

    # history: Haiku did this stage well and cheaply 30 times
    store.record_calls(
        [
            LLMCallRecord(
                workflow="wf",
                stage="outline",
                task_type="generate_code",
                provider="anthropic",
                tier="cheap",
                model_id=CHEAP.id,
                success=True,
                error_type=None,
                latency_ms=300.0,
                tokens_input=100,
                tokens_output=50,
                cost=CHEAP.cost(100, 50),
            )
            for _ in range(30)
        ]
    )
    router = AdaptiveModelRouter(store, breaker=breaker)
    expected = router.get_best_model("wf", "outline", task_type="generate_code")
    async with EmpathyLLMExecutor(
        telemetry_store=store, breaker=breaker, router=router, api_key=TEST_API_KEY, base_url=fake_api.base_url
    ) as ex:
        response = await ex.run("generate_code", "x", context={"workflow": "wf", "stage": "outline"})
    assert response.metadata["selected_by"] == "router"
    assert fake_api.requests[-1].model == expected == CHEAP.id


# --- failures and the breaker ----------------------------------------------------------


async def test_rate_limit_parses_retry_after_and_does_not_count_against_breaker(executor, fake_api, breaker, store):
    fake_api.enqueue(*[rate_limited(retry_after=7)] * 6)
    for _ in range(6):
        response = await executor.run("fix_bug", "x")
        assert not response.success
        assert response.error_type == "rate_limit"
        assert response.retry_after == 7.0
        assert "429" in response.error
    assert len(fake_api.requests) == 6  # one request per run: the SDK's own retries are off
    assert breaker.is_available("anthropic", "capable")
    assert failure_count(breaker, "capable") == 0
    records = rows(store)
    assert len(records) == 6 and all(r.error_type == "rate_limit" and not r.success for r in records)


@pytest.mark.parametrize(
    "answer, error_type", [(server_error(500), "server"), (server_error(503), "server"), (overloaded(), "overloaded")]
)
async def test_server_errors_count_and_open_the_breaker_after_five(
    executor, fake_api, breaker, store, answer, error_type
):
    fake_api.enqueue(*[answer] * 5)
    for _ in range(5):
        response = await executor.run("fix_bug", "x")
        assert response.error_type == error_type
    assert len(fake_api.requests) == 5
    assert breaker.get_status()["anthropic:capable"]["state"] == "open"

    refused = await executor.run("fix_bug", "x")

    assert refused.error_type == "circuit_open"
    assert not refused.success
    assert len(fake_api.requests) == 5  # the open breaker sent nothing
    assert len(rows(store)) == 5  # and wrote no telemetry for the refused call
    # another tier has its own breaker
    assert (await executor.run("summarize", "x")).success


async def test_open_breaker_sends_no_request(executor, fake_api, breaker):
    for _ in range(5):
        breaker.record_failure("anthropic", "premium", error_type="server")

    response = await executor.run("final_review", "x")

    assert response.error_type == "circuit_open"
    assert "anthropic:premium" in response.error
    assert fake_api.requests == []


async def test_half_open_probe_success_closes_the_breaker(executor, fake_api, breaker, clock):
    for _ in range(5):
        breaker.record_failure("anthropic", "capable", error_type="server")
    clock.advance(61)

    assert (await executor.run("fix_bug", "probe")).success

    assert breaker.get_status()["anthropic:capable"]["state"] == "closed"


async def test_half_open_probe_answered_with_429_does_not_leave_the_breaker_stuck(executor, fake_api, breaker, clock):
    for _ in range(5):
        breaker.record_failure("anthropic", "capable", error_type="server")
    clock.advance(61)
    fake_api.enqueue(rate_limited(1))

    assert (await executor.run("fix_bug", "probe")).error_type == "rate_limit"
    # the provider answered, so the probe settled: the next caller is let through
    assert (await executor.run("fix_bug", "next")).success


async def test_timeout_is_typed_and_counted(fake_api, breaker, store):
    fake_api.enqueue(slow(10))
    async with EmpathyLLMExecutor(
        telemetry_store=store, breaker=breaker, api_key=TEST_API_KEY, base_url=fake_api.base_url, timeout=0.3
    ) as ex:
        response = await ex.run("fix_bug", "x")
    assert response.error_type == "timeout"
    assert failure_count(breaker, "capable") == 1
    assert rows(store)[0].error_type == "timeout"


async def test_connection_refused_is_typed_and_counted(breaker, store):
    async with EmpathyLLMExecutor(
        telemetry_store=store, breaker=breaker, api_key=TEST_API_KEY, base_url=closed_port_url(), timeout=5
    ) as ex:
        response = await ex.run("fix_bug", "x")
    assert response.error_type == "connection"
    assert failure_count(breaker, "capable") == 1


async def test_dropped_connection_is_typed_as_connection(executor, fake_api, breaker):
    fake_api.enqueue(hang_up())
    response = await executor.run("fix_bug", "x")
    assert response.error_type == "connection"
    assert failure_count(breaker, "capable") == 1


async def test_wrong_key_is_auth_error_not_counted_and_never_logged(fake_api, breaker, store, caplog):
    caplog.set_level(logging.DEBUG)
    wrong_key = "sk-ant-wrong-test-key-not-a-secret"
    async with EmpathyLLMExecutor(
        telemetry_store=store, breaker=breaker, api_key=wrong_key, base_url=fake_api.base_url
    ) as ex:
        response = await ex.run("fix_bug", "x")
    assert response.error_type == "auth"
    assert "401" in response.error
    assert failure_count(breaker, "capable") == 0
    assert wrong_key not in caplog.text


async def test_bad_request_is_typed_and_not_counted(executor, fake_api, breaker):
    fake_api.enqueue(error(400, "prompt is too long"))
    response = await executor.run("fix_bug", "x")
    assert response.error_type == "bad_request"
    assert "prompt is too long" in response.error
    assert failure_count(breaker, "capable") == 0


# --- API key -------------------------------------------------------------------------


async def test_missing_api_key_is_a_clear_failed_response_and_sends_nothing(fake_api, breaker, store):
    async with EmpathyLLMExecutor(telemetry_store=store, breaker=breaker, base_url=fake_api.base_url) as ex:
        response = await ex.run("fix_bug", "x")
    assert response.error_type == "missing_api_key"
    assert "ANTHROPIC_API_KEY" in response.error
    assert "Attune: Set Up Authentication" in response.error
    assert fake_api.requests == []
    assert rows(store) == []


async def test_key_from_environment_is_used(fake_api, breaker, store, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_API_KEY)
    async with EmpathyLLMExecutor(telemetry_store=store, breaker=breaker, base_url=fake_api.base_url) as ex:
        assert (await ex.run("fix_bug", "x")).success


def test_missing_api_key_error_is_typed():
    from attune.models.llm.executor import resolve_api_key

    with pytest.raises(MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        resolve_api_key(None)


# --- telemetry is never silently off ----------------------------------------------------


async def test_executor_without_store_feeds_the_shared_store_and_the_router(fake_api, breaker, attune_home):
    from attune.models import AdaptiveModelRouter, get_telemetry_store

    async with EmpathyLLMExecutor(breaker=breaker, api_key=TEST_API_KEY, base_url=fake_api.base_url) as ex:
        for _ in range(3):
            assert (await ex.run("fix_bug", "x", context={"workflow": "review", "stage": "scan"})).success

    assert (attune_home / "state" / "telemetry.db").exists()
    shared = get_telemetry_store()
    assert len(rows(shared, "review")) == 3
    stats = AdaptiveModelRouter(shared, breaker=breaker).get_routing_stats("review", stage="scan")
    assert stats["total_calls"] == 3
    assert CAPABLE.id in stats["models_used"]


async def test_executor_without_breaker_uses_the_shared_one_other_processes_see(
    fake_api, store, attune_home, cli_env, attune_cmd
):
    import json

    fake_api.enqueue(*[overloaded()] * 5)
    async with EmpathyLLMExecutor(telemetry_store=store, api_key=TEST_API_KEY, base_url=fake_api.base_url) as ex:
        for _ in range(5):
            assert (await ex.run("fix_bug", "x")).error_type == "overloaded"
        assert (await ex.run("fix_bug", "x")).error_type == "circuit_open"

    # the CLI, another process, reads the same SQLite breaker under ATTUNE_HOME
    result = subprocess.run(
        [*attune_cmd, "breaker", "status", "--json"], env=cli_env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["breakers"]["anthropic:capable"]["state"] == "open"
    assert len(fake_api.requests) == 5


async def test_telemetry_off_only_when_asked_and_said_at_info(fake_api, breaker, store, caplog):
    caplog.set_level(logging.INFO, logger="attune.models.llm.executor")
    async with EmpathyLLMExecutor(
        telemetry_store=store, breaker=breaker, api_key=TEST_API_KEY, base_url=fake_api.base_url, telemetry=False
    ) as ex:
        assert (await ex.run("fix_bug", "x")).success
    assert rows(store) == []
    assert any(r.levelno == logging.INFO and "no signal" in r.getMessage() for r in caplog.records)


async def test_a_broken_telemetry_store_does_not_lose_the_answer(fake_api, breaker, tmp_path, caplog):
    db = tmp_path / "t.db"
    broken = TelemetryStore(db)
    broken.close()  # a store whose connection is gone
    async with EmpathyLLMExecutor(
        telemetry_store=broken, breaker=breaker, api_key=TEST_API_KEY, base_url=fake_api.base_url
    ) as ex:
        response = await ex.run("fix_bug", "x")
    assert response.success and response.content
    assert "telemetry write failed" in caplog.text


# --- import cost ---------------------------------------------------------------------


def test_anthropic_is_imported_lazily():
    code = (
        "import sys, attune.models, attune.models.llm.executor, attune.models.llm.resilient; "
        "from attune.models import EmpathyLLMExecutor, ResilientExecutor, count_tokens; "
        "EmpathyLLMExecutor(api_key='k', telemetry=False); "
        "assert 'anthropic' not in sys.modules, 'anthropic imported eagerly'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
