"""The Redis breaker store, for users whose workers span machines.

Layout (the ``{…}`` hash tag keeps every key in one Redis Cluster slot):

- ``{attune:breaker}:state:<key>`` a hash with the ``CircuitBreakerState`` fields
- ``{attune:breaker}:keys``        a set of the keys that have state
- ``{attune:breaker}:version``     INCR'd by every change (``change_token``)

Every transition is one Lua script (``register_script``: EVALSHA, falling back to EVAL
when the server lost its script cache), so it is atomic and one round trip. The
scripts mirror the rules in ``attune.models.breaker.rules`` (``acquire``, ``on_success``,
``on_failure``); the same test-suite runs against every store to keep them equal.

Time comes from the caller's clock (so tests can inject one): hosts sharing a Redis
need NTP-synchronised clocks; a skew of a few seconds moves ``retry_at`` by as much.

Unreachable Redis: short socket timeouts (0.5 s), no client-side retries, and after a
failure the store does not touch the network for ``retry_interval`` seconds (5 s) but
raises ``BreakerStoreUnavailable`` at once, so at most one call per interval waits for
a timeout. ``CircuitBreaker`` turns that into its degraded mode.

redis-py is the optional extra ``attune-companion[redis]``: without it, creating the
store raises ``MissingExtraError`` (an ``AttuneError``) whose one line says so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from attune.models._internal.urls import redact_url
from attune.models.breaker.rules import BreakerPolicy, CircuitBreakerState
from attune.models.breaker.stores.base import BreakerStoreUnavailable
from attune.models.errors import MissingExtraError

T = TypeVar("T")

DEFAULT_PREFIX = "attune:breaker"

_ACQUIRE = """
local opened = redis.call('HGET', KEYS[1], 'opened_at')
if not opened then return 1 end
local now = tonumber(ARGV[1])
local retry = redis.call('HGET', KEYS[1], 'retry_at')
if (not retry) or now < tonumber(retry) then return 0 end
local permits = tonumber(ARGV[3])
local granted = tonumber(redis.call('HGET', KEYS[1], 'probes_granted') or '0')
local window = redis.call('HGET', KEYS[1], 'probe_window_start')
if granted >= permits and window and now >= tonumber(window) + tonumber(ARGV[2]) then
  granted = 0
end
if granted >= permits then return 0 end
if granted == 0 then redis.call('HSET', KEYS[1], 'probe_window_start', ARGV[1]) end
redis.call('HSET', KEYS[1], 'probes_granted', granted + 1)
redis.call('INCR', KEYS[2])
return 1
"""

_SUCCESS = """
local count = tonumber(redis.call('HGET', KEYS[1], 'failure_count') or '0')
local opened = redis.call('HGET', KEYS[1], 'opened_at')
if count == 0 and not opened then return 0 end
redis.call('HSET', KEYS[1], 'failure_count', 0, 'probes_granted', 0)
redis.call('HDEL', KEYS[1], 'opened_at', 'retry_at', 'probe_window_start')
redis.call('INCR', KEYS[2])
return 1
"""

# ARGV: key, now, failure_threshold, retry_at if this failure (re)opens, error_type or ''
_FAILURE = """
local now = tonumber(ARGV[2])
local count = tonumber(redis.call('HGET', KEYS[1], 'failure_count') or '0') + 1
local opened = redis.call('HGET', KEYS[1], 'opened_at')
local retry = redis.call('HGET', KEYS[1], 'retry_at')
local reopen
if not opened then
  reopen = count >= tonumber(ARGV[3])
else
  reopen = retry and now >= tonumber(retry)
end
redis.call('HSET', KEYS[1], 'failure_count', count, 'last_failure', ARGV[2])
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 'last_error_type', ARGV[5])
else
  redis.call('HDEL', KEYS[1], 'last_error_type')
end
if reopen then
  redis.call('HSET', KEYS[1], 'opened_at', ARGV[2], 'retry_at', ARGV[4], 'probes_granted', 0)
  redis.call('HDEL', KEYS[1], 'probe_window_start')
end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('INCR', KEYS[3])
return 1
"""

# ARGV: mode ('all' | 'key' | 'tiers'), key, state-key prefix
_RESET = """
local gone = {}
for _, k in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local hit = ARGV[1] == 'all' or k == ARGV[2]
    or (ARGV[1] == 'tiers' and string.sub(k, 1, #ARGV[2] + 1) == ARGV[2] .. ':')
  if hit then
    redis.call('DEL', ARGV[3] .. k)
    redis.call('SREM', KEYS[1], k)
    table.insert(gone, k)
  end
end
if #gone > 0 then redis.call('INCR', KEYS[2]) end
return gone
"""

# ARGV: state-key prefix. Returns {key1, {field, value, ...}, key2, ...}: one consistent snapshot.
_SNAPSHOT = """
local out = {}
for _, k in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local h = redis.call('HGETALL', ARGV[1] .. k)
  if #h > 0 then
    table.insert(out, k)
    table.insert(out, h)
  end
end
return out
"""


def _opt_float(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def _hash_to_state(key: str, h: Mapping[Any, Any]) -> CircuitBreakerState:
    return CircuitBreakerState(
        key=key,
        failure_count=int(h.get("failure_count") or 0),
        opened_at=_opt_float(h.get("opened_at")),
        retry_at=_opt_float(h.get("retry_at")),
        last_failure=_opt_float(h.get("last_failure")),
        last_error_type=h.get("last_error_type") or None,
        probes_granted=int(h.get("probes_granted") or 0),
        probe_window_start=_opt_float(h.get("probe_window_start")),
    )


# The URL options the store accepts; anything else is refused where the store is
# created. The socket timeouts are the store's own (0.5 s), not a URL option.
_OPTIONS = ("prefix", "db", "username", "password", "client_name", "protocol")
_TLS_OPTIONS = (
    "ssl_cert_reqs",
    "ssl_ca_certs",
    "ssl_ca_path",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_check_hostname",
)


def accepted_options(scheme: str) -> tuple[str, ...]:
    """The query options a ``redis://``, ``rediss://`` or ``unix://`` URL may carry."""
    return _OPTIONS + _TLS_OPTIONS if scheme.lower() == "rediss" else _OPTIONS


def _split_prefix(url: str) -> tuple[str, str | None]:
    """Check the URL's options and take our own ``?prefix=`` out of it (redis-py
    refuses options it does not know). The rest of the URL is kept as written:
    rebuilding it from parts would turn ``unix:///path`` into ``unix:/path``.
    Raises ValueError naming an option the store does not accept."""
    from urllib.parse import parse_qsl

    base, _, query = url.partition("?")
    query, hash_mark, fragment = query.partition("#")
    if not query:
        return url, None
    scheme = url.split("://", 1)[0]
    accepted = accepted_options(scheme)
    prefix = None
    rest = []
    for part in filter(None, query.replace(";", "&").split("&")):
        pairs = parse_qsl(part, keep_blank_values=True)
        name = pairs[0][0] if pairs else part
        if name not in accepted:
            raise ValueError(
                f"unknown option {name!r} in the redis breaker URL {redact_url(url)!r} "
                f"(accepted: {', '.join(accepted)})"
            )
        if name == "prefix":
            prefix = pairs[0][1]
        else:
            rest.append(part)
    kept = base + ("?" + "&".join(rest) if rest else "")
    return kept + hash_mark + fragment, prefix


class RedisBreakerStore:
    def __init__(
        self,
        url: str,
        prefix: str | None = None,
        socket_timeout: float = 0.5,
        connect_timeout: float = 0.5,
        retry_interval: float = 5.0,
    ) -> None:
        self.url = redact_url(url)
        client_url, url_prefix = _split_prefix(url)
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError as exc:
            if exc.name != "redis" and not (exc.name or "").startswith("redis."):
                raise
            raise MissingExtraError(
                f"the Redis breaker store ({self.url}) needs the redis package: pip install 'attune-companion[redis]'",
                name="redis",
            ) from exc
        self.prefix = prefix or url_prefix or DEFAULT_PREFIX
        self.retry_interval = retry_interval
        # Any error of a call is the store being unusable: it never reaches the breaker's callers.
        self._errors: tuple[type[BaseException], ...] = (Exception,)
        try:
            self._client = redis.Redis.from_url(
                client_url,
                decode_responses=True,
                socket_timeout=socket_timeout,
                socket_connect_timeout=connect_timeout,
                retry=Retry(NoBackoff(), 0),
                health_check_interval=0,
            )
            # Build one connection object now (it does not connect): an option value
            # redis-py refuses (protocol=4, ssl_cert_reqs=maybe) is an error here, not
            # at the first call.
            pool = self._client.connection_pool
            pool.connection_class(**pool.connection_kwargs)
        except (TypeError, ValueError, redis.RedisError) as exc:
            raise ValueError(f"bad redis breaker URL {self.url!r}: {exc}") from exc
        tag = "{" + self.prefix + "}"
        self._state_prefix = f"{tag}:state:"
        self._keys_key = f"{tag}:keys"
        self._version_key = f"{tag}:version"
        self._acquire = self._client.register_script(_ACQUIRE)
        self._success = self._client.register_script(_SUCCESS)
        self._failure = self._client.register_script(_FAILURE)
        self._reset = self._client.register_script(_RESET)
        self._snapshot = self._client.register_script(_SNAPSHOT)
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._last_error = ""

    def _call(self, fn: Callable[[], T]) -> T:
        # Process-local back-off (monotonic: it is about this process's own waiting).
        if time.monotonic() < self._down_until:
            raise BreakerStoreUnavailable(self._last_error)
        try:
            return fn()
        except self._errors as exc:
            with self._lock:
                self._last_error = f"redis at {self.url} unreachable: {type(exc).__name__}: {exc}"
                self._down_until = time.monotonic() + self.retry_interval
            raise BreakerStoreUnavailable(self._last_error) from exc

    def _state_key(self, key: str) -> str:
        return self._state_prefix + key

    def acquire(self, key: str, now: float, policy: BreakerPolicy) -> bool:
        return bool(
            self._call(
                lambda: self._acquire(
                    keys=[self._state_key(key), self._version_key],
                    args=[repr(now), repr(float(policy.recovery_timeout_seconds)), policy.half_open_calls],
                )
            )
        )

    def record_success(self, key: str, now: float) -> None:
        self._call(lambda: self._success(keys=[self._state_key(key), self._version_key]))

    def record_failure(self, key: str, now: float, policy: BreakerPolicy, error_type: str | None) -> None:
        retry_at = now + policy.recovery_timeout_seconds
        self._call(
            lambda: self._failure(
                keys=[self._state_key(key), self._keys_key, self._version_key],
                args=[key, repr(now), policy.failure_threshold, repr(retry_at), error_type or ""],
            )
        )

    def get(self, key: str) -> CircuitBreakerState | None:
        h = self._call(lambda: self._client.hgetall(self._state_key(key)))
        return _hash_to_state(key, h) if h else None

    def get_all(self) -> dict[str, CircuitBreakerState]:
        flat = self._call(lambda: self._snapshot(keys=[self._keys_key], args=[self._state_prefix]))
        out: dict[str, CircuitBreakerState] = {}
        for key, fields in zip(flat[::2], flat[1::2], strict=True):
            out[key] = _hash_to_state(key, dict(zip(fields[::2], fields[1::2], strict=True)))
        return dict(sorted(out.items()))

    def reset(self, key: str | None = None, include_tiers: bool = False) -> list[str]:
        mode = "all" if key is None else ("tiers" if include_tiers else "key")
        gone = self._call(
            lambda: self._reset(keys=[self._keys_key, self._version_key], args=[mode, key or "", self._state_prefix])
        )
        return sorted(gone)

    def change_token(self) -> int:
        value = self._call(lambda: self._client.get(self._version_key))
        return int(value or 0)

    def close(self) -> None:
        try:
            self._client.close()
        except self._errors:
            pass
