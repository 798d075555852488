"""Store URLs as users write them: credentials never shown (status, errors, logs), Redis
URL options checked where the store is created, and ``unix://`` sockets."""

from __future__ import annotations

import logging

import pytest

from attune.models import CircuitBreaker
from attune.models.breaker.stores import open_store, redact_url
from support.redis_server import RedisServer, free_port, redis_server_binary, skip_or_fail_without_redis

SECRET = "S3cr3t"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0?password=S3cr3t", "redis://127.0.0.1:6379/0?password=***"),
        ("redis://127.0.0.1:6379/0?PassWord=S3cr3t&db=1", "redis://127.0.0.1:6379/0?PassWord=***&db=1"),
        ("redis://h/0?username=S3cr3t&password=S3cr3t", "redis://h/0?username=***&password=***"),
        ("redis://h/0?token=S3cr3t;ACCESS_TOKEN=S3cr3t", "redis://h/0?token=***;ACCESS_TOKEN=***"),
        (
            "redis://h/0?client_secret=S3cr3t&api_key=S3cr3t&prefix=a",
            "redis://h/0?client_secret=***&api_key=***&prefix=a",
        ),
        ("redis://h/0?pass%77ord=S3cr3t", "redis://h/0?pass%77ord=***"),  # a percent-escaped name
        ("redis://h/0#access_token=S3cr3t", "redis://h/0#access_token=***"),
        ("redis://user:S3cr3t@h:6379/0", "redis://***@h:6379/0"),
        ("redis://S3cr3t@h:6379/0", "redis://***@h:6379/0"),
        ("rediss://:S3cr3t@h/0?password=S3cr3t", "rediss://***@h/0?password=***"),
        ("unix://:S3cr3t@/run/redis.sock?db=0", "unix://***@/run/redis.sock?db=0"),
        # malformed: what urllib refuses or splits in the wrong place
        ("redis://u:S3cr3t@[::1/0", "redis://***@[::1/0"),
        ("redis://:S3c@r3t@h/0", "redis://***@h/0"),
        ("redis://:S3c#r3t@h/0", "redis://***@h/0"),
        ("redis://:S3c/r3t@h/0", "redis://***@h/0"),
        ("redis://:S3c?r3t@h/0", "redis://***@h/0"),
        ("redis://:S3cr3t@h:notaport/0", "redis://***@h:notaport/0"),
        ("redis:u:S3cr3t@h", "***@h"),
        ("u:S3cr3t@h/0", "***@h/0"),
        (b"redis://:S3cr3t@h/0", "redis://***@h/0"),
        # nothing to hide: unchanged
        ("sqlite:////home/me/a@b/breaker.db", "sqlite:////home/me/a@b/breaker.db"),
        ("sqlite:///breaker.db", "sqlite:///breaker.db"),
        ("redis://h:6379/0?db=1&prefix=team", "redis://h:6379/0?db=1&prefix=team"),
        ("memory://", "memory://"),
        ("", ""),
        (None, "None"),
    ],
)
def test_redact_url_hides_every_credential(url: object, shown: str) -> None:
    assert redact_url(url) == shown
    assert "S3c" not in shown and "r3t" not in shown  # nor a piece of it


@pytest.mark.parametrize(
    "url",
    [
        "redis//u:S3cr3t@host/0",  # no '://'
        "sqlite:///breaker.db?password=S3cr3t",
        "ftp://u:S3cr3t@host/",
        "redis://u:S3cr3t@[::1/0",
        "redis://h/0?password=S3cr3t&bogus=1",
    ],
)
def test_a_refused_url_is_named_without_its_credentials(url: str) -> None:
    with pytest.raises(ValueError) as refused:
        open_store(url)
    assert SECRET not in str(refused.value)
    assert "***" in str(refused.value)


@pytest.mark.parametrize("option", ["bogus", "Password", "socket_timeout", "ssl_cert_reqs"])
def test_an_unknown_redis_option_is_refused_where_the_store_is_created(option: str) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0?password={SECRET}&{option}=1"
    with pytest.raises(ValueError) as refused:
        CircuitBreaker(store=url)
    message = str(refused.value)
    assert f"unknown option {option!r}" in message
    assert "accepted: prefix, db, username, password, client_name, protocol" in message
    assert SECRET not in message


@pytest.mark.parametrize("url", ["redis://h/0?protocol=4", "redis://h/0?db=zero", "rediss://h/0?ssl_cert_reqs=maybe"])
def test_a_bad_redis_option_value_is_refused_where_the_store_is_created(url: str) -> None:
    with pytest.raises(ValueError, match="bad redis breaker URL"):
        CircuitBreaker(store=url)


def test_a_tls_url_with_its_options_is_created_and_its_calls_never_raise() -> None:
    cb = CircuitBreaker(store=f"rediss://127.0.0.1:{free_port()}/0?ssl_cert_reqs=none&ssl_check_hostname=false")
    # Nothing listens: every call answers from the process-local breaker.
    assert cb.is_available("anthropic")
    cb.record_failure("anthropic")
    cb.record_success("anthropic")
    assert cb.get_status()["anthropic"]["failure_count"] == 0
    assert cb.store_health()["reachable"] is False


@pytest.mark.redis
def test_accepted_redis_options_reach_the_server(redis_url: str) -> None:
    import redis

    cb = CircuitBreaker(store=f"{redis_url}?db=3&client_name=attune-test&protocol=2&prefix=team")
    cb.record_failure("anthropic")
    assert redis.Redis.from_url(redis_url.removesuffix("/0") + "/3").smembers("{team}:keys") == {b"anthropic"}
    names = [c["name"] for c in redis.Redis.from_url(redis_url).client_list()]
    assert "attune-test" in names


def test_an_unreachable_store_never_logs_its_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    cb = CircuitBreaker(store=f"redis://user:{SECRET}@127.0.0.1:{port}/0?username={SECRET}&password={SECRET}")
    cb.is_available("anthropic")
    cb.record_failure("anthropic")
    health = cb.store_health()
    assert any("unavailable" in r.getMessage() for r in caplog.records)
    assert all(SECRET not in r.getMessage() for r in caplog.records)
    assert SECRET not in repr(health) and SECRET not in repr(cb) and SECRET not in cb.store.url
    assert health["url"] == f"redis://***@127.0.0.1:{port}/0?username=***&password=***"


@pytest.mark.redis
def test_a_password_given_as_a_url_option_authenticates_and_is_not_shown(caplog: pytest.LogCaptureFixture) -> None:
    if redis_server_binary() is None:
        skip_or_fail_without_redis()
    import redis

    caplog.set_level(logging.DEBUG)
    with RedisServer() as server:
        redis.Redis.from_url(server.url).config_set("requirepass", SECRET)
        cb = CircuitBreaker(store=f"{server.url}?password={SECRET}")
        cb.record_failure("anthropic")
        assert cb.get_status()["anthropic"]["failure_count"] == 1  # from Redis: the password worked
        assert cb.store_health() == {
            "url": f"{server.url}?password=***",
            "reachable": True,
            "error": None,
            "down_since": None,
        }
        wrong = CircuitBreaker(store=f"{server.url}?password=wrong-{SECRET}")
        wrong.is_available("anthropic")
        assert wrong.store_health()["reachable"] is False
    assert all(SECRET not in r.getMessage() for r in caplog.records)


@pytest.mark.redis
def test_a_unix_socket_url_reaches_the_server() -> None:
    if redis_server_binary() is None:
        skip_or_fail_without_redis()
    with RedisServer(unix_socket=True) as server:
        over_socket = CircuitBreaker(store=server.unix_url + "&prefix=team")
        for _ in range(5):
            over_socket.record_failure("anthropic", "premium")
        assert over_socket.store_health()["reachable"] is True
        assert over_socket.store.url == f"unix://{server.socket_path}?db=0&prefix=team"
        # The same server over TCP sees what was written through the socket.
        over_tcp = CircuitBreaker(store=server.url + "?prefix=team")
        assert over_tcp.peek_state("anthropic", "premium") == "open"
