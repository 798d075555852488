"""Breaker stores, chosen by URL (``open_store``): ``memory://``,
``sqlite:///relative.db`` / ``sqlite:////abs/path.db`` (SQLAlchemy's convention),
``redis://host:port/db``.

Every store implements ``base.BreakerStore``; ``memory``, ``sqlite`` and ``redis``
are imported only when a URL asks for them.
"""

from __future__ import annotations

from attune.models._internal.urls import redact_url
from attune.models.breaker.stores.base import BreakerStore, BreakerStoreUnavailable, TransactionalStore

__all__ = [
    "SUPPORTED_URLS",
    "BreakerStore",
    "BreakerStoreUnavailable",
    "TransactionalStore",
    "open_store",
    "redact_url",
    "sqlite_path_from_url",
]

SUPPORTED_URLS = "memory://, sqlite:///relative/path.db, sqlite:////absolute/path.db or redis://host:port/db"


def open_store(url: str, *, read_only: bool = False) -> BreakerStore:
    """A store for a URL: ``memory://``, ``sqlite:///path.db``, ``redis[s]://…``.

    ``read_only=True`` is for status displays: a SQLite store then creates no file or
    folder and changes nothing (a missing file reads as no state); memory and Redis
    stores are unaffected (reading them writes nothing local)."""
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"not a breaker store URL: {redact_url(url)!r} (use {SUPPORTED_URLS})")
    scheme = url.split("://", 1)[0].lower()
    if scheme == "memory":
        from attune.models.breaker.stores.memory import MemoryBreakerStore

        return MemoryBreakerStore()
    if scheme == "sqlite":
        from attune.models.breaker.stores.sqlite import SQLiteBreakerStore

        return SQLiteBreakerStore(sqlite_path_from_url(url), read_only=read_only)
    if scheme in ("redis", "rediss", "unix"):
        from attune.models.breaker.stores.redis import RedisBreakerStore

        return RedisBreakerStore(url)
    raise ValueError(f"unsupported breaker store URL scheme {scheme!r} in {redact_url(url)!r} (use {SUPPORTED_URLS})")


def sqlite_path_from_url(url: str) -> str:
    """The file of a ``sqlite://`` URL, as SQLAlchemy reads it: what follows
    ``sqlite:///`` is the path, so ``sqlite:///breaker.db`` is ``breaker.db`` in the
    current directory and ``sqlite:////abs/breaker.db`` is ``/abs/breaker.db``.
    Percent-escapes are decoded; a query string and a NUL byte are not allowed."""
    from urllib.parse import unquote

    scheme, rest = url.split("://", 1)
    if scheme.lower() != "sqlite" or not rest.startswith("/"):
        raise ValueError(
            "a sqlite breaker URL is sqlite:///relative/path.db or sqlite:////absolute/path.db "
            f"(got {redact_url(url)!r})"
        )
    path = rest[1:]
    if "?" in path:
        raise ValueError(f"a sqlite breaker URL takes no query string (got {redact_url(url)!r})")
    if not path or path.endswith("/"):
        raise ValueError(
            f"a sqlite breaker URL needs a file path, like sqlite:///breaker.db or sqlite:////abs/breaker.db "
            f"(got {redact_url(url)!r})"
        )
    decoded = unquote(path)
    if "\x00" in decoded:  # no file name holds one; the OS would refuse it later
        raise ValueError(f"a sqlite breaker URL's path cannot contain a NUL byte (%00) (got {redact_url(url)!r})")
    return decoded
