"""One record per LLM call (``records``), kept in a SQLite store every process of the
user shares, with hourly rollups for fast aggregates (``store``)."""

from attune.models.telemetry.records import LLMCallRecord, ModelAggregate, TelemetryBackend, TelemetryStoreError
from attune.models.telemetry.store import TelemetryStore, get_telemetry_store

__all__ = [
    "LLMCallRecord",
    "ModelAggregate",
    "TelemetryBackend",
    "TelemetryStore",
    "TelemetryStoreError",
    "get_telemetry_store",
]
