"""URLs as they may be shown: in logs, status output and error messages."""

from __future__ import annotations


def redact_url(url: str) -> str:
    """The URL without its password, for logs and status output."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rsplit("@", 1)[1]
    except ValueError:
        return "<unparseable URL>"
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
