"""Redis-specific behaviour: an unreachable or silent Redis, an outage and recovery,
passwords kept out of logs, and key prefixes."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from attune.models import CircuitBreaker
from attune.models.breaker.stores.redis import RedisBreakerStore
from support.redis_server import (
    RedisServer,
    free_port,
    redis_server_binary,
    skip_or_fail_without_redis,
)

pytestmark = pytest.mark.redis

BREAKER_LOGGER = "attune.models.breaker.circuit_breaker"


def warnings_from_breaker(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == BREAKER_LOGGER and r.levelno == logging.WARNING]


def test_unreachable_redis_fails_open_without_raising_and_warns_once(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger=BREAKER_LOGGER)
    cb = CircuitBreaker(store=f"redis://127.0.0.1:{free_port()}/0")
    for _ in range(20):
        assert cb.is_available("anthropic", "premium")
        assert cb.peek_state("anthropic", "premium") == "closed"
    assert len(warnings_from_breaker(caplog)) == 1
    assert "process-local" in warnings_from_breaker(caplog)[0]
    health = cb.store_health()
    assert health["reachable"] is False and "unreachable" in health["error"]
    assert str(cb.change_token()).startswith("unavailable")


def test_while_redis_is_down_this_process_still_protects_itself() -> None:
    cb = CircuitBreaker(store=f"redis://127.0.0.1:{free_port()}/0")
    for _ in range(5):
        cb.record_failure("anthropic", "premium", error_type="server")
    assert not cb.is_available("anthropic", "premium")
    assert cb.get_status()["anthropic:premium"]["state"] == "open"
    assert cb.is_available("anthropic", "cheap")


@pytest.fixture
def silent_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """A TCP server that accepts connections and never answers (a hung Redis)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], accepted
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_hung_redis_costs_one_timeout_then_answers_from_the_backoff(silent_server) -> None:
    port, accepted = silent_server
    cb = CircuitBreaker(store=f"redis://127.0.0.1:{port}/0")
    answers = [cb.is_available("anthropic", "premium") for _ in range(30)]
    cb.record_failure("anthropic", "premium")
    cb.get_status()
    assert answers == [True] * 30
    # Only the first call went to the network and waited; the rest were answered from the
    # store's back-off without touching it.
    assert len(accepted) == 1
    assert cb.store_health()["reachable"] is False


def test_short_timeouts_and_no_client_retries() -> None:
    store = RedisBreakerStore(f"redis://127.0.0.1:{free_port()}/0")
    kwargs = store._client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] <= 1 and kwargs["socket_connect_timeout"] <= 1
    retry = kwargs["retry"]
    # get_retries() is newer than redis-py 5.0, the lowest version allowed
    assert (retry.get_retries() if hasattr(retry, "get_retries") else retry._retries) == 0


def test_outage_and_recovery() -> None:
    if redis_server_binary() is None:
        skip_or_fail_without_redis()
    with RedisServer() as server:

        def breaker() -> CircuitBreaker:
            return CircuitBreaker(store=RedisBreakerStore(server.url, retry_interval=0))

        worker_a, worker_b = breaker(), breaker()
        for _ in range(5):
            worker_a.record_failure("anthropic", "premium")
        assert not worker_b.is_available("anthropic", "premium")  # shared

        server.stop()
        assert worker_b.is_available("anthropic", "premium")  # fails open
        assert worker_b.store_health()["reachable"] is False

        server.start()  # same port, empty (no persistence)
        for _ in range(5):
            worker_a.record_failure("anthropic", "cheap")
        assert not worker_b.is_available("anthropic", "cheap")
        assert worker_b.store_health()["reachable"] is True


def test_recovery_is_logged(caplog) -> None:
    if redis_server_binary() is None:
        skip_or_fail_without_redis()
    caplog.set_level(logging.WARNING, logger=BREAKER_LOGGER)
    with RedisServer() as server:
        cb = CircuitBreaker(store=RedisBreakerStore(server.url, retry_interval=0))
        server.stop()
        cb.is_available("anthropic")
        server.start()
        cb.is_available("anthropic")
    messages = warnings_from_breaker(caplog)
    assert len(messages) == 2 and "available again" in messages[1]


def test_password_never_reaches_logs_or_status(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    cb = CircuitBreaker(store=f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0")
    cb.is_available("anthropic")
    health = cb.store_health()
    assert "s3cret-pw" not in repr(health) and "s3cret-pw" not in repr(cb)
    assert "***" in health["url"]
    assert all("s3cret-pw" not in r.getMessage() for r in caplog.records)


def test_prefixes_keep_two_deployments_apart(redis_url: str) -> None:
    a = CircuitBreaker(store=redis_url + "?prefix=team-a")
    b = CircuitBreaker(store=redis_url + "?prefix=team-b")
    for _ in range(5):
        a.record_failure("anthropic", "premium")
    assert not a.is_available("anthropic", "premium")
    assert b.is_available("anthropic", "premium")
    assert b.get_status() == {}
    assert b.reset() == []
    assert a.peek_state("anthropic", "premium") == "open"


def test_lost_script_cache_is_reloaded(redis_url: str) -> None:
    import redis

    cb = CircuitBreaker(store=redis_url)
    cb.record_failure("anthropic", "premium")
    redis.Redis.from_url(redis_url).script_flush()  # e.g. a Redis restart or failover
    cb.record_failure("anthropic", "premium")
    assert cb.get_status()["anthropic:premium"]["failure_count"] == 2
    assert cb.store_health()["reachable"]
