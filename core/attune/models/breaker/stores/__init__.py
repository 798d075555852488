"""Breaker stores, chosen by URL (``open_store``): ``memory://``,
``sqlite:///path.db``, ``redis://host:port/db``.

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

SUPPORTED_URLS = "memory://, sqlite:///absolute/path.db or redis://host:port/db"


def open_store(url: str) -> BreakerStore:
    """A store for a URL: ``memory://``, ``sqlite:///abs/path.db``, ``redis[s]://…``."""
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"not a breaker store URL: {url!r} (use {SUPPORTED_URLS})")
    scheme = url.split("://", 1)[0].lower()
    if scheme == "memory":
        from attune.models.breaker.stores.memory import MemoryBreakerStore

        return MemoryBreakerStore()
    if scheme == "sqlite":
        from attune.models.breaker.stores.sqlite import SQLiteBreakerStore

        return SQLiteBreakerStore(sqlite_path_from_url(url))
    if scheme in ("redis", "rediss", "unix"):
        from attune.models.breaker.stores.redis import RedisBreakerStore

        return RedisBreakerStore(url)
    raise ValueError(f"unsupported breaker store URL scheme {scheme!r} in {redact_url(url)!r} (use {SUPPORTED_URLS})")


def sqlite_path_from_url(url: str) -> str:
    """``sqlite:///abs/path.db`` (or SQLAlchemy's ``sqlite:////abs/path.db``) -> path."""
    from urllib.parse import unquote

    rest = url.split("://", 1)[1]
    if not rest.startswith("/") or rest.strip("/") == "":
        raise ValueError(
            f"a sqlite breaker URL needs an absolute path, like sqlite:///home/me/breaker.db (got {url!r})"
        )
    return "/" + unquote(rest).lstrip("/")
