"""OpenTelemetry spans and metrics of the LLM calls, named by the GenAI semantic
conventions of OpenTelemetry semantic conventions v1.41.0 (docs/opentelemetry.md).

Only the OpenTelemetry API is used, imported on a call's path (never when this module
is imported), and no provider is ever installed here: spans and metrics appear when
the host application (or ``opentelemetry-instrument``, or the ``attune`` CLI as a host)
installed one. Without one the API hands out no-op objects and nothing is measured:
attributes are only computed for a span that records.

The span tree of one ``attune run`` on the API (kinds in brackets)::

    attune.run document                      [INTERNAL] runs.runner: the whole run
    └── chat claude-sonnet-4-6               [INTERNAL] ResilientExecutor.run: one stage's call
        ├── chat claude-sonnet-4-6           [CLIENT]   EmpathyLLMExecutor.run: attempt 1 (overloaded)
        │   └── anthropic.messages.create    [CLIENT]   the SDK's own span of the HTTP call
        └── chat claude-haiku-4-5            [CLIENT]   attempt 2 (a fallback)
            └── anthropic.messages.create

``EmpathyLLMExecutor.run`` called directly is the call itself: one CLIENT span.

Tokens are counted once per call: ``gen_ai.usage.*`` and ``attune.cost_usd`` sit on the
call span (the resilient INTERNAL span, or the executor's CLIENT span when it is not
an attempt of one). Attempt spans carry none (a failed attempt has no usage and the
answering one's is the call's). The run span sums its stages as ``attune.usage.*``.
Metrics have one data point per request sent (per attempt), so they carry each
attempt's tokens and duration.

Never a prompt, a reply or a key in an attribute: only model ids, token counts, cost,
names of the workflow, stage and tier, and error types.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.metrics import Histogram
    from opentelemetry.trace import Span, Tracer

logger = logging.getLogger(__name__)

SCOPE = "attune.models"
SEMCONV_VERSION = "1.41.0"
SCHEMA_URL = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"

OPERATION_CHAT = "chat"
PROVIDER_ANTHROPIC = "anthropic"

# attribute names (GenAI semantic conventions; the package carrying them is not a dependency)
OPERATION_NAME = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_ID = "gen_ai.response.id"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
CACHE_READ_TOKENS = "gen_ai.usage.cache_read.input_tokens"
CACHE_CREATION_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
TOKEN_TYPE = "gen_ai.token.type"
ERROR_TYPE = "error.type"

# metrics, with the bucket boundaries the conventions advise
TOKEN_USAGE = "gen_ai.client.token.usage"
OPERATION_DURATION = "gen_ai.client.operation.duration"
TOKEN_BUCKETS = tuple(float(4**n) for n in range(14))  # 1, 4, 16, ... 67108864
DURATION_BUCKETS = tuple(0.01 * 2**n for n in range(14))  # 0.01, 0.02, ... 81.92 s

# attune's own attributes
WORKFLOW = "attune.workflow"
STAGE = "attune.stage"
TIER = "attune.tier"
COST_USD = "attune.cost_usd"
BREAKER_STATE = "attune.breaker_state"
ATTEMPTS = "attune.attempts"
ATTEMPT = "attune.attempt"
RUN_ID = "attune.run_id"
TASK = "attune.task"
MODE = "attune.mode"
STATUS = "attune.status"
RUN_INPUT_TOKENS = "attune.usage.input_tokens"
RUN_OUTPUT_TOKENS = "attune.usage.output_tokens"
API_EQUIVALENT_COST_USD = "attune.api_equivalent_cost_usd"


def span_name(model: str) -> str:
    """``{gen_ai.operation.name} {gen_ai.request.model}``, as the conventions name a call."""
    return f"{OPERATION_CHAT} {model}"


# --- the API, found on first use ------------------------------------------------------

_tracer_for: tuple[object, Tracer] | None = None
_instruments_for: tuple[object, Histogram, Histogram] | None = None


def _tracer() -> Tracer | None:
    """The tracer of the global provider; None while none is installed (the API's
    default proxy would hand out no-op spans: skipping them is cheaper still)."""
    global _tracer_for
    try:
        from opentelemetry import trace
    except ImportError:  # an anthropic SDK old enough not to bring the API
        return None
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider):
        return None
    cached = _tracer_for
    if cached is None or cached[0] is not provider:
        cached = (provider, provider.get_tracer(SCOPE, schema_url=SCHEMA_URL))
        _tracer_for = cached
    return cached[1]


def _instruments() -> tuple[Histogram, Histogram] | None:
    """(token usage, operation duration) of the global meter provider; None while none
    is installed."""
    global _instruments_for
    try:
        from opentelemetry import metrics
        from opentelemetry.metrics._internal import _ProxyMeterProvider
    except ImportError:
        return None
    provider = metrics.get_meter_provider()
    if isinstance(provider, _ProxyMeterProvider):
        return None
    cached = _instruments_for
    if cached is None or cached[0] is not provider:
        meter = provider.get_meter(SCOPE, schema_url=SCHEMA_URL)
        tokens = meter.create_histogram(
            TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        duration = meter.create_histogram(
            OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        cached = (provider, tokens, duration)
        _instruments_for = cached
    return cached[1], cached[2]


class _Traced:
    """A span and whether its error is described yet."""

    __slots__ = ("described", "span")

    def __init__(self, span: Span | None) -> None:
        self.span = span
        self.described = False

    @property
    def recording(self) -> bool:
        return self.span is not None and self.span.is_recording()


@contextmanager
def _current(name: str, kind_name: str, attributes: dict[str, Any]) -> Iterator[_Traced]:
    """A span, current for the block (so the SDK's span and our children nest under it).

    An ``Exception`` escaping the block sets ERROR and, unless the block described the
    error already, ``error.type`` = its class name; a cancellation (``BaseException``)
    ends the span with no status, as the SDK does."""
    tracer = _tracer()
    if tracer is None:
        yield _Traced(None)
        return
    from opentelemetry.trace import SpanKind

    kind = SpanKind.CLIENT if kind_name == "client" else SpanKind.INTERNAL
    with tracer.start_as_current_span(
        name, kind=kind, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as span:
        traced = _Traced(span)
        try:
            yield traced
        except Exception as exc:
            if not traced.described:
                _set_error(traced, type(exc).__qualname__)
            raise


def _set_error(traced: _Traced, error_type: str) -> None:
    traced.described = True
    if traced.span is None or not traced.span.is_recording():
        return
    from opentelemetry.trace import Status, StatusCode

    traced.span.set_status(Status(StatusCode.ERROR))
    traced.span.set_attribute(ERROR_TYPE, error_type)


def _set_usage(span: Span, usage: Usage) -> None:
    span.set_attribute(INPUT_TOKENS, usage.input_total)
    span.set_attribute(OUTPUT_TOKENS, usage.output_tokens)
    if usage.cache_read:
        span.set_attribute(CACHE_READ_TOKENS, usage.cache_read)
    if usage.cache_creation:
        span.set_attribute(CACHE_CREATION_TOKENS, usage.cache_creation)


class Usage:
    """What one answer used. ``input_total`` counts the cached input too, as
    ``gen_ai.usage.input_tokens`` does (Anthropic's ``input_tokens`` leaves it out)."""

    __slots__ = ("cache_creation", "cache_read", "input_tokens", "output_tokens")

    def __init__(self, input_tokens: int, output_tokens: int, cache_read: int = 0, cache_creation: int = 0) -> None:
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.cache_read = cache_read
        self.cache_creation = cache_creation

    @property
    def input_total(self) -> int:
        return self.input_tokens + self.cache_read + self.cache_creation


def _record_metrics(
    model: str,
    mode: str,
    seconds: float,
    *,
    response_model: str | None = None,
    usage: Usage | None = None,
    error_type: str | None = None,
) -> None:
    try:
        instruments = _instruments()
    except Exception as exc:  # an API too old for the advisory buckets, a broken provider: no metrics
        logger.debug("no GenAI metrics: %s: %s", type(exc).__name__, exc)
        return
    if instruments is None:
        return
    tokens, duration = instruments
    attributes: dict[str, Any] = {
        OPERATION_NAME: OPERATION_CHAT,
        PROVIDER_NAME: PROVIDER_ANTHROPIC,
        REQUEST_MODEL: model,
        MODE: mode,
    }
    if response_model:
        attributes[RESPONSE_MODEL] = response_model
    if error_type:
        attributes[ERROR_TYPE] = error_type
    duration.record(seconds, attributes)
    if usage is not None:
        tokens.record(usage.input_total, {**attributes, TOKEN_TYPE: "input"})
        tokens.record(usage.output_tokens, {**attributes, TOKEN_TYPE: "output"})


# --- one call of the executor ---------------------------------------------------------


class ResilientCall:
    """The INTERNAL span of one ``ResilientExecutor.run``; its attempts count themselves here."""

    def __init__(self, traced: _Traced) -> None:
        self.traced = traced
        self.attempts = 0

    def next_attempt(self) -> int:
        self.attempts += 1
        return self.attempts

    def succeeded(
        self, model: str, tier: str, cost: float, usage: Usage, response_model: str | None, breaker_state: str
    ) -> None:
        span = self.traced.span
        if span is None or not span.is_recording():
            return
        span.set_attribute(TIER, tier)
        span.set_attribute(ATTEMPTS, self.attempts)
        span.set_attribute(COST_USD, cost)
        span.set_attribute(BREAKER_STATE, breaker_state)
        span.set_attribute(RESPONSE_MODEL, response_model or model)
        _set_usage(span, usage)

    def failed(self, error_type: str, tier: str | None, breaker_state: Callable[[], str] | None) -> None:
        span = self.traced.span
        if span is not None and span.is_recording():
            span.set_attribute(ATTEMPTS, self.attempts)
            if tier:
                span.set_attribute(TIER, tier)
            if breaker_state is not None:
                _set_breaker_state(span, breaker_state)
        _set_error(self.traced, error_type)


_resilient: ContextVar[ResilientCall | None] = ContextVar("attune_resilient_call", default=None)


def _call_attributes(model: str, tier: str, workflow: str, stage: str, run_id: str | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        OPERATION_NAME: OPERATION_CHAT,
        PROVIDER_NAME: PROVIDER_ANTHROPIC,
        REQUEST_MODEL: model,
        WORKFLOW: workflow,
        STAGE: stage,
        TIER: tier,
    }
    if run_id:
        attributes[RUN_ID] = run_id
    return attributes


@contextmanager
def resilient_span(model: str, tier: str, workflow: str, stage: str, run_id: str | None) -> Iterator[ResilientCall]:
    """The span around a resilient call's attempts; ``model`` and ``tier`` are its first target's."""
    with _current(span_name(model), "internal", _call_attributes(model, tier, workflow, stage, run_id)) as traced:
        call = ResilientCall(traced)
        token = _resilient.set(call)
        try:
            yield call
        finally:
            _resilient.reset(token)


def _set_breaker_state(span: Span, read: Callable[[], str]) -> None:
    try:
        span.set_attribute(BREAKER_STATE, read())
    except Exception:  # the breaker's store is its own concern; the span just lacks the state
        return


class ExecutorCall:
    """The CLIENT span of one ``EmpathyLLMExecutor.run``: an attempt of a resilient call,
    or the whole call when the executor is called directly."""

    def __init__(self, traced: _Traced, model: str, parent: ResilientCall | None) -> None:
        self.traced = traced
        self.span = traced.span
        self.model = model
        self.is_attempt = parent is not None
        self._sent_at: float | None = None
        if parent is not None:
            attempt = parent.next_attempt()
            if traced.recording:
                assert self.span is not None
                self.span.set_attribute(ATTEMPT, attempt)

    @property
    def recording(self) -> bool:
        return self.traced.recording

    def refused(self, error_type: str, breaker_state: Callable[[], str] | None = None) -> None:
        """Nothing was sent (no key, open breaker): the span says why; no metric point."""
        if self.span is not None and self.span.is_recording():
            if not self.is_attempt:
                self.span.set_attribute(ATTEMPTS, 1)
            if breaker_state is not None:
                _set_breaker_state(self.span, breaker_state)
        _set_error(self.traced, error_type)

    def sending(self) -> None:
        """The request goes out now: the duration metric starts here."""
        self._sent_at = time.perf_counter()

    def _seconds(self) -> float:
        return time.perf_counter() - self._sent_at if self._sent_at is not None else 0.0

    def failed(self, error_type: str, breaker_state: Callable[[], str]) -> None:
        """The provider refused or could not be reached."""
        _record_metrics(self.model, "api", self._seconds(), error_type=error_type)
        if self.span is not None and self.span.is_recording():
            if not self.is_attempt:
                self.span.set_attribute(ATTEMPTS, 1)
            _set_breaker_state(self.span, breaker_state)
        _set_error(self.traced, error_type)

    def succeeded(
        self, usage: Usage, cost: float, response_model: str | None, response_id: str | None, finish: str | None
    ) -> None:
        _record_metrics(self.model, "api", self._seconds(), response_model=response_model, usage=usage)
        if not self.recording:
            return
        span = self.span
        assert span is not None
        # a success closes the breaker (breaker.rules.on_success): no store read needed
        span.set_attribute(BREAKER_STATE, "closed")
        if response_model:
            span.set_attribute(RESPONSE_MODEL, response_model)
        if response_id:
            span.set_attribute(RESPONSE_ID, response_id)
        if finish:
            span.set_attribute(FINISH_REASONS, [finish])
        if not self.is_attempt:  # the call span carries the usage; an attempt's is its parent's
            span.set_attribute(ATTEMPTS, 1)
            span.set_attribute(COST_USD, cost)
            _set_usage(span, usage)


@contextmanager
def executor_span(
    model: str, tier: str, workflow: str, stage: str, run_id: str | None, max_tokens: int
) -> Iterator[ExecutorCall]:
    attributes = _call_attributes(model, tier, workflow, stage, run_id)
    attributes[REQUEST_MAX_TOKENS] = max_tokens
    parent = _resilient.get()
    # an attempt's own attempts would be its parent's: hide the parent from anything nested
    token = _resilient.set(None)
    try:
        with _current(span_name(model), "client", attributes) as traced:
            yield ExecutorCall(traced, model, parent)
    finally:
        _resilient.reset(token)


# --- a task run -----------------------------------------------------------------------


class RunSpan:
    """The span of one task run, current from ``start`` to ``end`` (stages nest under it)."""

    def __init__(self, task: str, mode: str, run_id: Any) -> None:
        self.span: Span | None = None
        self._token: object = None
        tracer = _tracer()
        if tracer is None:
            return
        from opentelemetry import context, trace

        attributes: dict[str, Any] = {TASK: task, MODE: mode}
        if run_id is not None:
            attributes[RUN_ID] = str(run_id)
        self.span = tracer.start_span(f"attune.run {task}", kind=trace.SpanKind.INTERNAL, attributes=attributes)
        self._token = context.attach(trace.set_span_in_context(self.span))

    def end(self, status: str, error_type: str | None, cost: float, input_tokens: int, output_tokens: int) -> None:
        span = self.span
        if span is None:
            return
        from opentelemetry import context

        try:
            if span.is_recording():
                span.set_attribute(STATUS, status)
                span.set_attribute(COST_USD, cost)
                span.set_attribute(RUN_INPUT_TOKENS, input_tokens)
                span.set_attribute(RUN_OUTPUT_TOKENS, output_tokens)
                if status == "failed":
                    _set_error(_Traced(span), error_type or "unknown")
        finally:
            context.detach(self._token)  # type: ignore[arg-type]
            span.end()


@contextmanager
def subscription_span(model: str, tier: str, workflow: str, stage: str, run_id: str | None) -> Iterator[Subscription]:
    """One stage through Claude Code's print mode (``claude -p``): a CLIENT span of its own."""
    attributes = _call_attributes(model, tier, workflow, stage, run_id)
    attributes[MODE] = "subscription"
    with _current(span_name(model), "client", attributes) as traced:
        yield Subscription(traced, model)


class Subscription:
    def __init__(self, traced: _Traced, model: str) -> None:
        self.traced = traced
        self.span = traced.span
        self.model = model
        self._started = time.perf_counter()

    def succeeded(self, usage: Usage, api_equivalent_cost: float) -> None:
        _record_metrics(self.model, "subscription", time.perf_counter() - self._started, usage=usage)
        span = self.span
        if span is None or not span.is_recording():
            return
        span.set_attribute(ATTEMPTS, 1)
        span.set_attribute(COST_USD, 0.0)
        span.set_attribute(API_EQUIVALENT_COST_USD, api_equivalent_cost)
        _set_usage(span, usage)

    def failed(self, error_type: str) -> None:
        _record_metrics(self.model, "subscription", time.perf_counter() - self._started, error_type=error_type)
        if self.span is not None and self.span.is_recording():
            self.span.set_attribute(ATTEMPTS, 1)
        _set_error(self.traced, error_type)
