"""The executor: one LLM call through the official ``anthropic`` SDK, guarded by the
circuit breaker and recorded in telemetry; plus ``count_tokens`` for exact counts.

What one ``EmpathyLLMExecutor.run`` does:

1. Picks the model: ``context["model"]`` (an id) or ``context["tier"]`` when given,
   else the router's choice when a router is set and the context names a workflow and
   a stage, else the registry's model for the task's tier.
2. Without an API key (argument or ``ANTHROPIC_API_KEY``) returns a failed response
   with error_type ``missing_api_key`` and the hint how to set one. Nothing is sent.
3. Asks the breaker for ``provider:tier``. Open -> a failed response with error_type
   ``circuit_open``; no request is sent and no telemetry row is written (the router
   already skips open breakers; a row per refused call would lower the model's
   success rate for calls it never got).
4. Calls the Messages API with the SDK's retries off (``max_retries=0``): retrying is
   ``ResilientExecutor``'s job, so one ``run`` is one HTTP request.
5. Reports the outcome to the breaker by the policy in ``provider_errors`` and writes
   one ``LLMCallRecord`` with the response's real usage tokens and the registry's
   prices. A telemetry write that fails is logged, never raised: the answer the user
   paid for is not thrown away over a bookkeeping error.

Each ``run`` is an OpenTelemetry CLIENT span ``chat <model>`` (``tracing``), current
around the SDK call so the SDK's own span nests under it, and one duration and token
data point per request sent; they appear when the application installed a provider.

``anthropic`` is imported inside functions only, so ``import attune.models`` and
``import attune.models.llm.executor`` stay cheap (the CLI and the server start fast).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from attune.models.llm import errors as pe
from attune.models.llm import tracing
from attune.models.llm.errors import CircuitOpenError, ProviderError
from attune.models.pricing.registry import ModelInfo, find_model, get_model
from attune.models.pricing.tasks import get_tier_for_task, normalize_task_type

if TYPE_CHECKING:  # pragma: no cover - typing only
    from attune.models.breaker.circuit_breaker import CircuitBreaker
    from attune.models.routing.router import AdaptiveModelRouter
    from attune.models.telemetry.records import TelemetryBackend

logger = logging.getLogger(__name__)

API_KEY_ENV = "ANTHROPIC_API_KEY"
DEFAULT_PROVIDER = "anthropic"
DEFAULT_TIMEOUT = 60.0
DEFAULT_COUNT_TIMEOUT = 10.0
DEFAULT_MAX_TOKENS = 4096
# telemetry rows need a workflow; calls made outside one are grouped under this name
DEFAULT_WORKFLOW = "default"

__all__ = [
    "CircuitOpenError",
    "EmpathyLLMExecutor",
    "LLMResponse",
    "MissingAPIKeyError",
    "ModelChoice",
    "ProviderError",
    "acount_tokens",
    "count_tokens",
]


class MissingAPIKeyError(ProviderError):
    """No API key was given and ``ANTHROPIC_API_KEY`` is not set."""

    def __init__(self) -> None:
        super().__init__(pe.MISSING_KEY_HINT, pe.MISSING_API_KEY)


def resolve_api_key(api_key: str | None) -> str:
    """The key to use: the argument, else ``ANTHROPIC_API_KEY``; never logged."""
    key = (api_key or os.environ.get(API_KEY_ENV) or "").strip()
    if not key:
        raise MissingAPIKeyError()
    return key


@dataclass
class LLMResponse:
    content: str
    model_id: str
    provider: str
    tier: str
    tokens_input: int = 0
    tokens_output: int = 0
    cost_estimate: float = 0.0
    latency_ms: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    retry_after: float | None = None  # seconds the provider asked us to wait (429/529)

    @property
    def success(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ModelChoice:
    """Which model a call runs on and why (``selected_by``: override, tier, router, task)."""

    provider: str
    tier: str
    model_id: str
    info: ModelInfo | None
    selected_by: str


# --- breaker outcome: one place for the policy in provider_errors ----------------------


def state_name(state: Any) -> str:
    """A breaker state as "closed", "open" or "half_open"."""
    return str(getattr(state, "value", state)).lower()


def report_outcome(breaker: CircuitBreaker, provider: str, tier: str | None, error_type: str | None) -> None:
    """Tell the breaker how a call went.

    Success -> ``record_success``. A health failure (``BREAKER_FAILURES``) ->
    ``record_failure``. Any other error leaves the failure count alone, except when
    this call was the half-open probe: the provider answered, so the probe succeeded
    (otherwise its permit would never come back and the breaker would stay stuck).
    """
    if error_type is None:
        breaker.record_success(provider, tier)
    elif error_type in pe.BREAKER_FAILURES:
        breaker.record_failure(provider, tier, error_type=error_type)
    elif state_name(breaker.peek_state(provider, tier)) == "half_open":
        breaker.record_success(provider, tier)


def _abandon_probe(breaker: CircuitBreaker, provider: str, tier: str | None) -> None:
    """A call was cancelled or broke on our side after the breaker let it through.

    If it was the half-open probe, reopen (the conservative choice: the provider's
    health is unknown, and a new probe comes after the recovery timeout).
    """
    try:
        if state_name(breaker.peek_state(provider, tier)) == "half_open":
            breaker.record_failure(provider, tier, error_type="abandoned")
    except Exception:  # never mask the original exception
        logger.exception("could not settle the breaker probe for %s:%s", provider, tier)


# --- the executor ----------------------------------------------------------------------


class EmpathyLLMExecutor:
    """Runs one task as one Messages API call; see the module docstring.

    ``EmpathyLLMExecutor`` is the name the seed documents give the default executor
    (routing, breaker, telemetry and the provider call in one object), and users'
    code imports it by that name, so it keeps it."""

    def __init__(
        self,
        telemetry_store: TelemetryBackend | None = None,
        breaker: CircuitBreaker | None = None,
        router: AdaptiveModelRouter | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        telemetry: bool = True,
        provider: str = DEFAULT_PROVIDER,
        max_tokens: int = DEFAULT_MAX_TOKENS,
    ) -> None:
        if provider.lower() != DEFAULT_PROVIDER:
            raise ValueError(
                f"EmpathyLLMExecutor calls the Anthropic Messages API; provider must be "
                f"{DEFAULT_PROVIDER!r}, not {provider!r}"
            )
        if max_tokens <= 0:
            raise ValueError("max_tokens must be positive")
        self.provider = DEFAULT_PROVIDER
        self.router = router
        self.base_url = base_url
        self.timeout = timeout
        self.max_tokens = max_tokens
        self.telemetry_enabled = telemetry
        self._api_key = api_key
        self._telemetry_store = telemetry_store
        self._breaker = breaker
        self._client: Any = None
        self._client_key: str | None = None
        self._client_loop: weakref.ReferenceType[asyncio.AbstractEventLoop] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        if not telemetry:
            # the caution this fixes: an executor without telemetry silently starves the router
            logger.info(
                "telemetry is off for this executor (telemetry=False): its calls write no "
                "LLMCallRecord, so adaptive routing gets no signal from them"
            )

    # shared instances are resolved on first use, so building an executor touches no disk
    @property
    def breaker(self) -> CircuitBreaker:
        if self._breaker is None:
            from attune.models.breaker.circuit_breaker import get_circuit_breaker

            self._breaker = get_circuit_breaker()
        return self._breaker

    @property
    def telemetry_store(self) -> TelemetryBackend | None:
        if not self.telemetry_enabled:
            return None
        if self._telemetry_store is None:
            from attune.models.telemetry.backend import get_telemetry_backend

            self._telemetry_store = get_telemetry_backend()
        return self._telemetry_store

    # -- model selection --------------------------------------------------------------
    def select_model(self, task_type: str, context: Mapping[str, Any] | None = None) -> ModelChoice:
        """The model ``run`` would use for this task and context (no call is made)."""
        ctx = context or {}
        task = normalize_task_type(task_type)
        if ctx.get("model"):
            model_id = str(ctx["model"])
            info = find_model(model_id)
            if info is not None and info.provider != self.provider:
                raise ValueError(f"model {model_id!r} belongs to provider {info.provider!r}")
            if info is None:
                logger.warning("model %s is not in the registry: its cost is recorded as 0", model_id)
            tier = info.tier if info else str(ctx.get("tier") or get_tier_for_task(task))
            return ModelChoice(self.provider, tier, model_id, info, "override")
        if ctx.get("tier"):
            tier = str(ctx["tier"]).lower()
            info = get_model(self.provider, tier)
            if info is None:
                raise ValueError(f"no {self.provider} model for tier {tier!r}")
            return ModelChoice(self.provider, tier, info.id, info, "tier")
        if self.router is not None and ctx.get("workflow") and ctx.get("stage"):
            choice = self._router_choice(str(ctx["workflow"]), str(ctx["stage"]), task)
            if choice is not None:
                return choice
        tier = get_tier_for_task(task)
        info = get_model(self.provider, tier)
        if info is None:
            raise ValueError(f"no {self.provider} model for tier {tier!r}")
        return ModelChoice(self.provider, tier, info.id, info, "task")

    def _router_choice(self, workflow: str, stage: str, task: str) -> ModelChoice | None:
        assert self.router is not None
        try:
            model_id = self.router.get_best_model(workflow, stage, task_type=task)
        except Exception as exc:  # a broken router must not stop the call; say so loudly
            logger.warning("router failed for %s/%s (%s); using the task's tier", workflow, stage, exc)
            return None
        info = find_model(model_id)
        if info is None or info.provider != self.provider:
            logger.warning(
                "router chose %s, not a %s model in the registry; using the task's tier", model_id, self.provider
            )
            return None
        return ModelChoice(self.provider, info.tier, info.id, info, "router")

    # -- the call ---------------------------------------------------------------------
    async def run(
        self,
        task_type: str,
        prompt: str,
        system: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> LLMResponse:
        """One call. Provider failures come back as a failed ``LLMResponse``, never raised."""
        ctx = dict(context or {})
        task = normalize_task_type(task_type)
        choice = self.select_model(task, ctx)
        meta: dict[str, Any] = {
            "task_type": task,
            "workflow": str(ctx.get("workflow") or DEFAULT_WORKFLOW),
            "stage": str(ctx.get("stage") or task),
            "selected_by": choice.selected_by,
        }
        if ctx.get("run_id"):
            meta["run_id"] = str(ctx["run_id"])  # the task run this call belongs to (telemetry)
        request = self._request(choice, prompt, system, ctx)
        with tracing.executor_span(
            choice.model_id, choice.tier, meta["workflow"], meta["stage"], meta.get("run_id"), request["max_tokens"]
        ) as call:
            return await self._call(choice, request, meta, call)

    async def _call(
        self, choice: ModelChoice, request: dict[str, Any], meta: dict[str, Any], call: tracing.ExecutorCall
    ) -> LLMResponse:
        try:
            api_key = resolve_api_key(self._api_key)
        except MissingAPIKeyError as exc:
            logger.warning("%s", exc.message)
            call.refused(exc.error_type)
            return self._failed(choice, exc, meta)
        breaker = self.breaker

        def breaker_state() -> str:
            return state_name(breaker.peek_state(choice.provider, choice.tier))

        if not breaker.is_available(choice.provider, choice.tier):
            logger.info("breaker open for %s:%s; %s not called", choice.provider, choice.tier, choice.model_id)
            call.refused(pe.CIRCUIT_OPEN, breaker_state)
            return self._failed(choice, CircuitOpenError(choice.provider, choice.tier), meta)

        started = time.perf_counter()
        try:
            client = self._client_for(api_key)
            call.sending()
            message = await client.messages.create(**request)
        except BaseException as exc:
            latency_ms = (time.perf_counter() - started) * 1000.0
            if not isinstance(exc, Exception) or not pe.is_sdk_error(exc):
                _abandon_probe(breaker, choice.provider, choice.tier)  # cancelled, or our bug
                raise
            err = pe.classify(exc)
            report_outcome(breaker, choice.provider, choice.tier, err.error_type)
            call.failed(err.error_type, breaker_state)
            logger.warning(
                "%s call to %s failed (%s): %s", choice.provider, choice.model_id, err.error_type, err.message
            )
            self._record(choice, meta, latency_ms, error_type=err.error_type)
            return self._failed(choice, err, meta, latency_ms)

        latency_ms = (time.perf_counter() - started) * 1000.0
        report_outcome(breaker, choice.provider, choice.tier, None)
        usage = message.usage
        tokens_in, tokens_out = int(usage.input_tokens), int(usage.output_tokens)
        cost = choice.info.cost(tokens_in, tokens_out) if choice.info else 0.0
        meta.update(
            message_id=message.id,
            stop_reason=message.stop_reason,
            cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
            cache_read_input_tokens=usage.cache_read_input_tokens or 0,
            response_model=message.model,
        )
        call.succeeded(
            tracing.Usage(tokens_in, tokens_out, meta["cache_read_input_tokens"], meta["cache_creation_input_tokens"]),
            cost,
            message.model,
            message.id,
            message.stop_reason,
        )
        if choice.info is None:
            meta["pricing"] = "unknown model: cost not estimated"
        self._record(choice, meta, latency_ms, tokens_in=tokens_in, tokens_out=tokens_out, cost=cost)
        text = "".join(block.text for block in message.content if getattr(block, "type", "") == "text")
        return LLMResponse(
            content=text,
            model_id=choice.model_id,
            provider=choice.provider,
            tier=choice.tier,
            tokens_input=tokens_in,
            tokens_output=tokens_out,
            cost_estimate=cost,
            latency_ms=latency_ms,
            metadata=meta,
        )

    def _request(self, choice: ModelChoice, prompt: str, system: str | None, ctx: Mapping[str, Any]) -> dict[str, Any]:
        max_tokens = int(ctx.get("max_tokens") or self.max_tokens)
        if choice.info is not None:
            max_tokens = min(max_tokens, choice.info.max_output_tokens)
        request: dict[str, Any] = {
            "model": choice.model_id,
            "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": prompt}],
        }
        if system:
            request["system"] = system
        if ctx.get("temperature") is not None:
            request["temperature"] = float(ctx["temperature"])
        return request

    def _client_for(self, api_key: str) -> Any:
        """One SDK client per executor and event loop (its connection pool is loop-bound)."""
        loop = asyncio.get_running_loop()
        if (
            self._client is None
            or self._client_key != api_key
            or self._client_loop is None
            or self._client_loop() is not loop
        ):
            import anthropic

            if self._client is not None and self._client_loop is not None and self._client_loop() is loop:
                # the key changed: free the old pool (held until closed, or the task may be collected)
                closing = loop.create_task(self._client.close())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
            self._client = anthropic.AsyncAnthropic(
                api_key=api_key, base_url=self.base_url, timeout=self.timeout, max_retries=0
            )
            self._client_key = api_key
            self._client_loop = weakref.ref(loop)
        return self._client

    def _failed(
        self, choice: ModelChoice, err: ProviderError, meta: dict[str, Any], latency_ms: float = 0.0
    ) -> LLMResponse:
        if err.status_code is not None:
            meta["status_code"] = err.status_code
        return LLMResponse(
            content="",
            model_id=choice.model_id,
            provider=choice.provider,
            tier=choice.tier,
            latency_ms=latency_ms,
            metadata=meta,
            error=err.message,
            error_type=err.error_type,
            retry_after=err.retry_after,
        )

    def _record(
        self,
        choice: ModelChoice,
        meta: Mapping[str, Any],
        latency_ms: float,
        *,
        error_type: str | None = None,
        tokens_in: int = 0,
        tokens_out: int = 0,
        cost: float = 0.0,
    ) -> None:
        if not self.telemetry_enabled:
            return
        try:
            from attune.models.telemetry.records import LLMCallRecord

            store = self.telemetry_store
            assert store is not None
            store.record_call(
                LLMCallRecord(
                    workflow=meta["workflow"],
                    stage=meta["stage"],
                    task_type=meta["task_type"],
                    provider=choice.provider,
                    tier=choice.tier,
                    model_id=choice.model_id,
                    success=error_type is None,
                    error_type=error_type,
                    latency_ms=latency_ms,
                    tokens_input=tokens_in,
                    tokens_output=tokens_out,
                    cost=cost,
                    run_id=meta.get("run_id"),
                )
            )
        except Exception as exc:
            logger.warning(
                "telemetry write failed for %s (%s: %s); the call's result is kept",
                choice.model_id,
                type(exc).__name__,
                exc,
            )

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def __aenter__(self) -> EmpathyLLMExecutor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


# --- count_tokens ----------------------------------------------------------------------


def _count_model(model: str | None) -> tuple[str, str | None]:
    """(model id, tier for the breaker key) for a count; default: the capable model."""
    if model is None:
        info = get_model(DEFAULT_PROVIDER, "capable")
        assert info is not None
        return info.id, info.tier
    info = find_model(model)
    return model, (info.tier if info is not None else None)


def _count_params(text: str, system: str | None, model_id: str) -> dict[str, Any]:
    params: dict[str, Any] = {"model": model_id, "messages": [{"role": "user", "content": text}]}
    if system:
        params["system"] = system
    return params


# Sync clients are reused across counts: the server counts on every save, and a fresh
# client would pay a new TLS handshake each time. Keyed by (key, base_url, timeout).
_sync_clients: dict[tuple[str, str | None, float], Any] = {}
_sync_clients_lock = threading.Lock()


def _sync_client(api_key: str, base_url: str | None, timeout: float) -> Any:
    key = (api_key, base_url, timeout)
    with _sync_clients_lock:
        client = _sync_clients.get(key)
        if client is None:
            import anthropic

            if len(_sync_clients) >= 4:  # a key or URL changed; drop the old clients
                for old in _sync_clients.values():
                    old.close()
                _sync_clients.clear()
            client = anthropic.Anthropic(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
            _sync_clients[key] = client
        return client


def _guarded_start(
    model: str | None,
    api_key: str | None,
    breaker: CircuitBreaker | None,
) -> tuple[str, str, str | None, CircuitBreaker]:
    model_id, tier = _count_model(model)
    key = resolve_api_key(api_key)  # before the breaker: a missing key must not use a probe
    if breaker is None:
        from attune.models.breaker.circuit_breaker import get_circuit_breaker

        breaker = get_circuit_breaker()
    if not breaker.is_available(DEFAULT_PROVIDER, tier):
        raise CircuitOpenError(DEFAULT_PROVIDER, tier)
    return key, model_id, tier, breaker


def _count_failed(exc: BaseException, breaker: CircuitBreaker, tier: str | None) -> NoReturn:
    """Settle the breaker for a failed count and raise the typed error."""
    if not isinstance(exc, Exception) or not pe.is_sdk_error(exc):
        _abandon_probe(breaker, DEFAULT_PROVIDER, tier)
        raise exc
    err = pe.classify(exc)
    report_outcome(breaker, DEFAULT_PROVIDER, tier, err.error_type)
    raise err from exc


def count_tokens(
    text: str,
    model: str | None = None,
    *,
    system: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    breaker: CircuitBreaker | None = None,
    timeout: float = DEFAULT_COUNT_TIMEOUT,
) -> int:
    """Exact input tokens for ``text`` as one user message, from ``messages.count_tokens``.

    Goes through the breaker for ``anthropic:<model's tier>`` (the shared breaker when
    none is given). Raises ``MissingAPIKeyError``, ``CircuitOpenError`` (nothing sent)
    or ``ProviderError`` with the error type; empty text is 0 without a call.
    """
    if not text and not system:
        return 0
    key, model_id, tier, guard = _guarded_start(model, api_key, breaker)
    try:
        result = _sync_client(key, base_url, timeout).messages.count_tokens(**_count_params(text, system, model_id))
    except BaseException as exc:
        _count_failed(exc, guard, tier)
    report_outcome(guard, DEFAULT_PROVIDER, tier, None)
    return int(result.input_tokens)


async def acount_tokens(
    text: str,
    model: str | None = None,
    *,
    system: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    breaker: CircuitBreaker | None = None,
    timeout: float = DEFAULT_COUNT_TIMEOUT,
) -> int:
    """The async twin of ``count_tokens`` (same breaker, errors and result)."""
    if not text and not system:
        return 0
    key, model_id, tier, guard = _guarded_start(model, api_key, breaker)
    import anthropic

    try:
        async with anthropic.AsyncAnthropic(api_key=key, base_url=base_url, timeout=timeout, max_retries=0) as client:
            result = await client.messages.count_tokens(**_count_params(text, system, model_id))
    except BaseException as exc:
        _count_failed(exc, guard, tier)
    report_outcome(guard, DEFAULT_PROVIDER, tier, None)
    return int(result.input_tokens)
