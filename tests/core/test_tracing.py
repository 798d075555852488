"""OpenTelemetry spans and metrics of the LLM calls (attune.models.llm.tracing).

The SDK's in-memory exporter and reader stand in for a collector: they are installed
as the global providers once (OpenTelemetry sets a global provider only once per
process), and each test sees only its own spans and data points. Calls go through the
real anthropic SDK to the loopback fake API, whose own span must nest under ours."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from attune.models import (
    AllProvidersFailedError,
    AuthStrategy,
    CircuitBreaker,
    EmpathyLLMExecutor,
    FallbackStrategy,
    ResilientExecutor,
    RetryPolicy,
    TelemetryStore,
    arun_task,
    get_model,
)
from support.claude_stub import write_claude_stub
from support.fake_anthropic import TEST_API_KEY, count_words, error, ok, overloaded, request_text
from support.manual_clock import ManualClock

CHEAP = get_model("anthropic", "cheap")
CAPABLE = get_model("anthropic", "capable")
PROMPT = "Explain the parser; the secret word is xyzzy-plugh."
SYSTEM = "You are terse. Another secret: frobozz-42."
SDK_SPAN = "anthropic.messages.create"
DEADLINE_S = 60  # a wait that only ends a broken test


class _Gated(SimpleSpanProcessor):
    """Exports only while a test of this module watches: after them, the rest of the
    suite's spans are dropped instead of piling up in memory."""

    open = False

    def on_end(self, span: ReadableSpan) -> None:
        if _Gated.open:
            super().on_end(span)


_SPANS = InMemorySpanExporter()
_METRICS = InMemoryMetricReader(preferred_temporality={Histogram: AggregationTemporality.DELTA})
_installed = False


class Telemetry:
    def __init__(self) -> None:
        _SPANS.clear()
        _METRICS.get_metrics_data()  # drop what earlier tests recorded (delta temporality)

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        found = [s for s in _SPANS.get_finished_spans() if name is None or s.name == name]
        return sorted(found, key=lambda s: s.start_time or 0)

    def points(self, metric: str) -> list[Any]:
        data = _METRICS.get_metrics_data()
        found: list[Any] = []
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for m in scope.metrics:
                    if m.name == metric:
                        assert scope.scope.name == "attune.models"
                        found.extend((m.unit, p) for p in m.data.data_points)
        return found


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    global _installed
    if not _installed:
        provider = TracerProvider()
        provider.add_span_processor(_Gated(_SPANS))
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[_METRICS]))
        _installed = True
    _Gated.open = True
    try:
        yield Telemetry()
    finally:
        _Gated.open = False


async def no_sleep(_seconds: float) -> None:
    return None


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def assert_no_text_or_key(spans: list[ReadableSpan], *texts: str) -> None:
    for span in spans:
        for value in attrs(span).values():
            for text in (TEST_API_KEY, *texts):
                assert text not in str(value), (span.name, value)


# ---- a resilient call: the call span, its attempts, the SDK's spans ----------------------


async def test_a_retry_and_a_fallback_are_attempt_spans_under_one_call_span(executor, fake_api, telemetry):
    # capable: overloaded (retried), then a 404 (not retried: fall back), then cheap answers
    fake_api.enqueue(overloaded(), error(404, "model: not found"), ok("done", output_tokens=7))
    resilient = ResilientExecutor(executor, RetryPolicy(jitter=False), sleep=no_sleep)

    response = await resilient.run(
        "fix_bug", PROMPT, system=SYSTEM, context={"workflow": "review", "stage": "triage", "run_id": "42"}
    )

    assert response.content == "done" and response.model_id == CHEAP.id
    [call] = [s for s in telemetry.spans() if s.kind is SpanKind.INTERNAL]
    assert call.name == f"chat {CAPABLE.id}" and call.parent is None
    answered = fake_api.requests_to("/v1/messages")[-1]
    assert attrs(call) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": CAPABLE.id,
        "gen_ai.response.model": CHEAP.id,
        "gen_ai.usage.input_tokens": count_words(answered.body),
        "gen_ai.usage.output_tokens": 7,
        "attune.workflow": "review",
        "attune.stage": "triage",
        "attune.run_id": "42",
        "attune.tier": "cheap",
        "attune.cost_usd": response.cost_estimate,
        "attune.breaker_state": "closed",
        "attune.attempts": 3,
    }
    assert call.status.status_code is StatusCode.UNSET

    attempts = [s for s in telemetry.spans() if s.kind is SpanKind.CLIENT and s.name.startswith("chat ")]
    assert [s.name for s in attempts] == [f"chat {CAPABLE.id}", f"chat {CAPABLE.id}", f"chat {CHEAP.id}"]
    assert [parent_id(s) for s in attempts] == [span_id(call)] * 3
    assert [attrs(s)["attune.attempt"] for s in attempts] == [1, 2, 3]
    assert [attrs(s).get("error.type") for s in attempts] == ["overloaded", "bad_request", None]
    assert [s.status.status_code for s in attempts] == [StatusCode.ERROR, StatusCode.ERROR, StatusCode.UNSET]
    assert [attrs(s)["attune.tier"] for s in attempts] == ["capable", "capable", "cheap"]
    assert attrs(attempts[2])["gen_ai.response.model"] == CHEAP.id
    # tokens are counted once: on the call span, never on its attempts
    assert not any(k.startswith("gen_ai.usage.") for s in attempts for k in attrs(s))

    # the SDK's span of each HTTP request is a child of its attempt, in the same trace
    sdk = telemetry.spans(SDK_SPAN)
    assert [parent_id(s) for s in sdk] == [span_id(s) for s in attempts]
    assert {s.context.trace_id for s in [call, *attempts, *sdk] if s.context} == {call.context.trace_id}
    assert_no_text_or_key(telemetry.spans(), "xyzzy-plugh", "frobozz-42", "done")


async def test_one_metric_point_per_request_with_the_fakes_token_counts(executor, fake_api, telemetry):
    fake_api.enqueue(overloaded(), ok("fine", input_tokens=120, output_tokens=30))
    resilient = ResilientExecutor(executor, RetryPolicy(jitter=False), sleep=no_sleep)

    await resilient.run("fix_bug", PROMPT)

    durations = telemetry.points("gen_ai.client.operation.duration")
    # (read once: the reader hands out each delta once, so tokens are read in the same pass below)
    assert durations, "no duration points"
    [(unit, failed)] = [(u, p) for u, p in durations if p.attributes.get("error.type")]
    [(_, answered)] = [(u, p) for u, p in durations if not p.attributes.get("error.type")]
    assert unit == "s"
    assert failed.count == 1 and answered.count == 1  # two requests, two points
    assert dict(failed.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": CAPABLE.id,
        "attune.mode": "api",
        "error.type": "overloaded",
    }
    assert answered.attributes["gen_ai.response.model"] == CAPABLE.id
    assert list(answered.explicit_bounds)[:3] == [0.01, 0.02, 0.04]


async def test_token_usage_histogram_sums_to_the_fakes_usage(executor, fake_api, telemetry):
    fake_api.enqueue(ok("a", input_tokens=120, output_tokens=30), ok("b", input_tokens=80, output_tokens=5))

    await executor.run("fix_bug", PROMPT)
    await executor.run("fix_bug", PROMPT)

    points = telemetry.points("gen_ai.client.token.usage")
    by_type = {p.attributes["gen_ai.token.type"]: (unit, p) for unit, p in points}
    assert set(by_type) == {"input", "output"}
    unit, inputs = by_type["input"]
    _, outputs = by_type["output"]
    assert unit == "{token}"
    assert (inputs.sum, inputs.count) == (200, 2)
    assert (outputs.sum, outputs.count) == (35, 2)
    assert list(inputs.explicit_bounds) == [float(4**n) for n in range(14)]
    assert inputs.attributes["gen_ai.request.model"] == CAPABLE.id
    assert inputs.attributes["gen_ai.response.model"] == CAPABLE.id


# ---- the executor called directly -----------------------------------------------------


async def test_a_direct_executor_call_is_one_client_span_carrying_the_usage(executor, fake_api, telemetry):
    fake_api.enqueue(ok("hi there", input_tokens=11, output_tokens=2))

    response = await executor.run("fix_bug", PROMPT)

    [call] = telemetry.spans(f"chat {CAPABLE.id}")
    assert call.kind is SpanKind.CLIENT and call.parent is None
    a = attrs(call)
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (11, 2)
    assert a["attune.cost_usd"] == response.cost_estimate > 0
    assert a["attune.attempts"] == 1 and a["attune.breaker_state"] == "closed"
    assert a["attune.workflow"] == "default" and a["attune.stage"] == "fix_bug" and a["attune.tier"] == "capable"
    assert a["gen_ai.response.finish_reasons"] == ("end_turn",)
    [sdk] = telemetry.spans(SDK_SPAN)
    assert parent_id(sdk) == span_id(call)


async def test_an_open_breaker_is_an_error_span_with_its_state_and_sends_nothing(
    executor, fake_api, breaker, telemetry
):
    for _ in range(breaker.failure_threshold):
        breaker.record_failure("anthropic", "capable", error_type="server")

    response = await executor.run("fix_bug", PROMPT)

    assert response.error_type == "circuit_open"
    [call] = telemetry.spans()
    assert call.status.status_code is StatusCode.ERROR
    assert attrs(call)["error.type"] == "circuit_open"
    assert attrs(call)["attune.breaker_state"] == "open"
    assert telemetry.points("gen_ai.client.operation.duration") == []  # no request, no point
    assert fake_api.requests == []


async def test_a_failed_call_that_trips_the_breaker_says_open(fake_api, tmp_path, telemetry):
    breaker = CircuitBreaker(failure_threshold=2, store="memory://", clock=ManualClock())
    fake_api.enqueue(error(500), error(500))
    async with EmpathyLLMExecutor(
        telemetry_store=TelemetryStore(tmp_path / "t.db"),
        breaker=breaker,
        api_key=TEST_API_KEY,
        base_url=fake_api.base_url,
    ) as ex:
        policy = RetryPolicy(max_attempts=2, jitter=False)
        resilient = ResilientExecutor(ex, policy, FallbackStrategy.tiers("capable"), sleep=no_sleep)
        with pytest.raises(AllProvidersFailedError):
            await resilient.run("fix_bug", PROMPT)

    [call] = [s for s in telemetry.spans() if s.kind is SpanKind.INTERNAL]
    assert call.status.status_code is StatusCode.ERROR
    assert attrs(call)["error.type"] == "server"
    assert attrs(call)["attune.attempts"] == 2
    assert attrs(call)["attune.breaker_state"] == "open"  # the second failure opened it
    assert "gen_ai.usage.input_tokens" not in attrs(call)
    attempts = [s for s in telemetry.spans() if s.kind is SpanKind.CLIENT and s.name.startswith("chat ")]
    assert [attrs(s)["attune.breaker_state"] for s in attempts] == ["closed", "open"]


# ---- a task run ------------------------------------------------------------------------

SOURCE = "def area(width, height):\n    return width * height\n\n\nclass Box:\n    size = 3\n"


@pytest.fixture
def module(tmp_path: Path) -> Path:
    path = tmp_path / "shapes.py"
    path.write_text(SOURCE * 5, encoding="utf-8")
    return path


async def test_a_run_is_one_span_with_a_call_span_per_stage(realistic_api, monkeypatch, module, telemetry):
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", realistic_api.base_url)

    result = await arun_task("explain", module, mode="api")

    assert result.status == "ok"
    [run] = telemetry.spans("attune.run explain")
    assert run.parent is None and run.kind is SpanKind.INTERNAL
    a = attrs(run)
    assert a["attune.task"] == "explain" and a["attune.mode"] == "api" and a["attune.status"] == "ok"
    assert a["attune.run_id"] == str(result.run_id)
    assert a["attune.cost_usd"] == pytest.approx(result.cost)
    assert a["attune.usage.input_tokens"] + a["attune.usage.output_tokens"] == result.tokens
    stages = [s for s in telemetry.spans() if parent_id(s) == span_id(run)]
    assert [attrs(s)["attune.stage"] for s in stages] == ["map", "explain"]
    assert all(s.kind is SpanKind.INTERNAL and s.name.startswith("chat ") for s in stages)
    assert [attrs(s)["gen_ai.usage.output_tokens"] for s in stages] == [s.output_tokens for s in result.stages]
    assert {attrs(s)["attune.workflow"] for s in stages} == {"run:explain"}
    assert {attrs(s)["attune.run_id"] for s in stages} == {str(result.run_id)}
    requests = realistic_api.requests_to("/v1/messages")
    assert_no_text_or_key(telemetry.spans(), SOURCE.strip(), request_text(requests[0].body), result.output)


async def test_a_subscription_run_has_a_span_per_stage_through_claude_code(module, tmp_path, monkeypatch, telemetry):
    AuthStrategy(subscription_tier="max").save()
    monkeypatch.setenv("ATTUNE_CLAUDE_BIN", str(write_claude_stub(tmp_path / "bin", "success")))

    result = await arun_task("explain", module, mode="subscription")

    assert result.status == "ok"
    [run] = telemetry.spans("attune.run explain")
    assert attrs(run)["attune.mode"] == "subscription"
    stages = [s for s in telemetry.spans() if parent_id(s) == span_id(run)]
    assert [attrs(s)["attune.stage"] for s in stages] == ["map", "explain"]
    for span, stage in zip(stages, result.stages, strict=True):
        a = attrs(span)
        assert span.kind is SpanKind.CLIENT and span.name == f"chat {stage.model}"
        assert a["gen_ai.provider.name"] == "anthropic" and a["attune.mode"] == "subscription"
        assert a["gen_ai.usage.input_tokens"] == stage.input_tokens + stage.cache_tokens
        assert a["gen_ai.usage.output_tokens"] == stage.output_tokens
        assert a["attune.cost_usd"] == 0.0 and a["attune.api_equivalent_cost_usd"] == stage.api_equivalent_cost


async def test_a_failed_run_is_an_error_span(realistic_api, monkeypatch, module, telemetry):
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", realistic_api.base_url)
    realistic_api.enqueue(*[error(400, "prompt is too long")] * 3)  # every tier the first stage may fall back to

    result = await arun_task("explain", module, mode="api")

    assert result.status == "failed"
    [run] = telemetry.spans("attune.run explain")
    assert run.status.status_code is StatusCode.ERROR
    assert attrs(run)["error.type"] == result.error_type == "bad_request"


# ---- no provider: the default ---------------------------------------------------------

NO_PROVIDER = textwrap.dedent(
    """
    import asyncio, json, sys
    from attune.models import EmpathyLLMExecutor, ResilientExecutor

    async def main():
        async with EmpathyLLMExecutor(api_key=sys.argv[1], base_url=sys.argv[2], telemetry=False) as ex:
            direct = await ex.run("fix_bug", "hello")
            resilient = await ResilientExecutor(ex).run("fix_bug", "hello")
        from opentelemetry import trace
        print(json.dumps({
            "answers": [direct.content, resilient.content],
            "provider": type(trace.get_tracer_provider()).__name__,
            "sdk_loaded": any(m.startswith("opentelemetry.sdk") for m in sys.modules),
        }))

    asyncio.run(main())
    """
)


def test_without_a_provider_calls_work_and_nothing_is_installed(fake_api, cli_env):
    env = {k: v for k, v in cli_env.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", NO_PROVIDER, TEST_API_KEY, fake_api.base_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
    )

    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["answers"] == ["Hello from the fake Anthropic API."] * 2
    assert out["provider"] == "ProxyTracerProvider"  # the API's default: no-op spans
    assert out["sdk_loaded"] is False
