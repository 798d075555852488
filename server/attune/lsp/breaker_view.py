"""The breaker's status as the editor sees it: the ``attune/breakerStatus`` payload."""

from __future__ import annotations

from datetime import datetime
from typing import Any

_NOTIFIED_FIELDS = ("state", "failure_count", "opened_at", "retry_at")


def breaker_payload(status: dict[str, dict[str, Any]], full: bool = False) -> dict[str, Any]:
    """``{"providers": {key: {...}}, "open": N, "half_open": M}`` from ``get_status()``.

    The notification carries the four fields clients show; ``full`` keeps every
    field of get_status() (the breakerStatus command)."""
    providers = {
        key: (dict(entry) if full else {f: entry.get(f) for f in _NOTIFIED_FIELDS})
        for key, entry in sorted(status.items())
    }
    states = [entry.get("state") for entry in status.values()]
    return {"providers": providers, "open": states.count("open"), "half_open": states.count("half_open")}


def next_retry_at(status: dict[str, dict[str, Any]]) -> float | None:
    """The earliest ``retry_at`` of an open breaker (epoch seconds): OPEN turns
    HALF_OPEN by time alone, with no write to the store to notice."""
    times = []
    for entry in status.values():
        if entry.get("state") == "open" and entry.get("retry_at"):
            try:
                times.append(datetime.fromisoformat(str(entry["retry_at"]).replace("Z", "+00:00")).timestamp())
            except ValueError:
                continue
    return min(times) if times else None
