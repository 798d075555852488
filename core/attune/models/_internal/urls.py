"""URLs as they may be shown: in logs, status output and error messages."""

from __future__ import annotations

import re

REDACTED = "***"

# A query or fragment parameter whose name contains one of these (case-insensitive,
# after percent-decoding) carries a credential: password=, username=, token=,
# access_token=, client_secret=, api_key=, auth=, sig=...
_CREDENTIAL_NAME_PARTS = ("pass", "pwd", "user", "token", "secret", "key", "auth", "cred", "sig")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_PARAMETER = re.compile(r"(?P<name>[^=&;#?]*)(?P<rest>=[^&;#]*)?")


def redact_url(url: object) -> str:
    """The URL without its credentials, for logs, status output and error messages.

    The user info (``user:password@``) becomes ``***@`` and the value of every query or
    fragment parameter whose name looks like a credential (``password``, ``username``,
    ``token``, ``access_token``, ``*secret*``, ``*key*``, ... in any case) becomes
    ``***``. Works on the text, so a malformed URL (bad IPv6 brackets, a raw ``@`` or
    ``#`` in a password, no scheme) is redacted as well; it never raises."""
    text = _as_text(url)
    start = 0
    scheme = _SCHEME.match(text)
    if scheme is not None and text.startswith("//", scheme.end()):
        start = scheme.end() + 2
    # User info can only follow the scheme's '//' (or open a scheme-less text), and only
    # when a host follows, not a path ('sqlite:////a@b.db'). A password may hold a raw
    # '@', '/', '?' or '#', so everything up to the last '@' goes: a URL with an '@'
    # further on is shown with more hidden than needed, never with less.
    at = text.rfind("@", start)
    if at != -1 and not text.startswith("/", start):
        text = text[:start] + REDACTED + text[at:]
    query = text.find("?", start)
    fragment = text.find("#", start)
    params_start = min(i for i in (query, fragment, len(text)) if i != -1)
    if params_start < len(text):
        text = text[: params_start + 1] + _redact_parameters(text[params_start + 1 :])
    return text


def _as_text(url: object) -> str:
    if isinstance(url, str):
        return url
    if isinstance(url, bytes | bytearray):
        return bytes(url).decode("utf-8", "replace")
    return str(url)


def _redact_parameters(text: str) -> str:
    """``a=1&password=x#token=y`` -> ``a=1&password=***#token=***``: every separator kept."""

    def one(match: re.Match[str]) -> str:
        name, rest = match.group("name"), match.group("rest")
        if rest is None or not _is_credential(name):
            return match.group(0)
        return f"{name}={REDACTED}"

    return _PARAMETER.sub(one, text)


def _is_credential(name: str) -> bool:
    from urllib.parse import unquote_plus

    lowered = unquote_plus(name).lower()
    return any(part in lowered for part in _CREDENTIAL_NAME_PARTS)
