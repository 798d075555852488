"""What a failed provider call means: its error type, and the policy for each type.

One place for the rules the executor, the resilient executor and ``count_tokens``
share. ``anthropic`` is imported only inside ``classify`` (called after an SDK call has
failed, so it is already loaded): ``import attune.models`` stays cheap.

Error types and policy:

=============  ==========================  =========  ========  =================
error_type     cause                       breaker    retried   then
=============  ==========================  =========  ========  =================
rate_limit     429                         no         yes [1]   next in chain
overloaded     529                         yes        yes       next in chain
server         other 5xx, bad body         yes        yes       next in chain
timeout        client timeout, 408         yes        yes       next in chain
connection     refused, reset, DNS         yes        yes       next in chain
auth           401, 402, 403, no key       no         no        stop (same key)
bad_request    400, 404, 413, 422, ...     no         no        next in chain
circuit_open   our breaker said no         --         no        next in chain
=============  ==========================  =========  ========  =================

[1] after Retry-After, when it is within the retry policy's ``max_delay``.

Why: the breaker guards against a provider that is down or sick. 5xx, 529,
timeouts and dropped connections are that. A 429 is our quota, an auth error is our
key and a 400 is our request: the provider answered promptly and correctly, so they
say nothing about its health and must not open the breaker for everyone else.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

RATE_LIMIT = "rate_limit"
OVERLOADED = "overloaded"
SERVER = "server"
TIMEOUT = "timeout"
CONNECTION = "connection"
AUTH = "auth"
BAD_REQUEST = "bad_request"
CIRCUIT_OPEN = "circuit_open"
MISSING_API_KEY = "missing_api_key"
UNKNOWN = "unknown"

# Count as a failure on the provider:tier breaker (the provider looks unhealthy).
BREAKER_FAILURES: frozenset[str] = frozenset({OVERLOADED, SERVER, TIMEOUT, CONNECTION})
# Worth the same request again after a wait.
RETRYABLE: frozenset[str] = frozenset({RATE_LIMIT, OVERLOADED, SERVER, TIMEOUT, CONNECTION})
# No other model can help: every model uses the same key.
FATAL: frozenset[str] = frozenset({AUTH, MISSING_API_KEY})

MISSING_KEY_HINT = (
    "No Anthropic API key: set ANTHROPIC_API_KEY or store a key in VS Code via 'Attune: Set Up Authentication'"
)


class ProviderError(Exception):
    """A provider call failed; ``error_type`` is one of the types above."""

    def __init__(
        self, message: str, error_type: str, *, retry_after: float | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.retry_after = retry_after
        self.status_code = status_code


class CircuitOpenError(ProviderError):
    """The breaker for this provider (and tier) is open; no request was sent."""

    def __init__(self, provider: str, tier: str | None) -> None:
        key = f"{provider}:{tier}" if tier else provider
        super().__init__(f"circuit breaker open for {key}; no request sent", CIRCUIT_OPEN)
        self.provider = provider
        self.tier = tier


def parse_retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return max(email.utils.mktime_tz(parsed) - (time.time() if now is None else now), 0.0)


def _error_type_for_status(status: int) -> str:
    if status == 429:
        return RATE_LIMIT
    if status == 529:
        return OVERLOADED
    if status == 408:
        return TIMEOUT
    if status in (401, 402, 403):
        return AUTH
    if status >= 500:
        return SERVER
    return BAD_REQUEST


def classify(exc: BaseException) -> ProviderError:
    """Map an ``anthropic`` SDK exception to a ``ProviderError`` with its error type.

    Anything that is not an SDK error is returned as ``UNKNOWN``; callers decide
    whether to re-raise it (the executor does: a bug in our code must surface).
    """
    if isinstance(exc, ProviderError):
        return exc
    import anthropic  # only reached after an SDK call, so already imported

    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        # the API's own message, not the SDK's "Error code: ..." repr of the body
        message = exc.api_message or exc.message
        return ProviderError(
            f"HTTP {status}: {message}",
            _error_type_for_status(status),
            retry_after=parse_retry_after(exc.response.headers),
            status_code=status,
        )
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderError("request timed out", TIMEOUT)
    if isinstance(exc, anthropic.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        detail = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        return ProviderError(f"connection failed{detail}", CONNECTION)
    if isinstance(exc, anthropic.APIResponseValidationError):
        return ProviderError(
            f"provider returned an invalid response: {exc.message}", SERVER, status_code=exc.status_code
        )
    return ProviderError(f"{type(exc).__name__}: {exc}", UNKNOWN)


def is_sdk_error(exc: BaseException) -> bool:
    """True for exceptions raised by the ``anthropic`` SDK (its ``AnthropicError`` tree)."""
    import anthropic

    return isinstance(exc, anthropic.AnthropicError)
