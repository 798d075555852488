"""OpenTelemetry export for the commands that call the API (`attune run`, `attune calibrate`).

The library (attune.models) only uses the OpenTelemetry API and never installs a
provider. The `attune` CLI is a host application, so it installs the SDK's tracer
and meter providers for the duration of a command's calls when all of these hold:

- the ``[otel]`` extra is installed (opentelemetry-sdk, the OTLP/HTTP exporter);
- OTEL_* configuration asks for export: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or a
  signal's ``..._TRACES_ENDPOINT``/``..._METRICS_ENDPOINT``), ``OTEL_TRACES_EXPORTER``
  or ``OTEL_METRICS_EXPORTER``; ``OTEL_SDK_DISABLED=true`` turns it all off;
- no provider is installed yet. When one is (``opentelemetry-instrument``, or code
  calling ``attune.cli.main``), attune's spans go to it, and it is flushed at the end
  of the command: the CLI ends with a hard exit, which skips the SDK's ``atexit``
  shutdown.

Exporters are ``otlp`` (OTLP over HTTP, configured by the SDK's own OTEL_EXPORTER_OTLP_*
variables) and ``console`` (to stderr, so ``--json`` output stays clean); ``none``
turns a signal off. A signal whose exporter variable is unset exports over OTLP when
an OTLP endpoint is configured. The service name is ``OTEL_SERVICE_NAME``, else
"attune". Spans and metrics leave in the background; at the end of the command the
providers are flushed for at most ``SHUTDOWN_BUDGET_S``, so a collector that is down
never fails the command and delays it by at most that.

Without the configuration nothing is imported; without the extra nothing but the API.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

SHUTDOWN_BUDGET_S = 1.0
# Under the exporters' first retry backoff (1 s less 20% jitter): a collector that
# refuses is given up on at once instead of retried past the shutdown budget.
EXPORT_TIMEOUT_S = 0.75
DEFAULT_SERVICE_NAME = "attune"
_ENDPOINTS = {
    "traces": ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
    "metrics": ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
}
_EXPORTER_VARS = {"traces": "OTEL_TRACES_EXPORTER", "metrics": "OTEL_METRICS_EXPORTER"}
_PROTOCOL_VARS = {
    "traces": ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"),
    "metrics": ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"),
}


def _set(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def exporters_for(signal: str, env: Mapping[str, str] = os.environ) -> list[str]:
    """The exporter names OTEL_* configures for ``signal`` ("traces" or "metrics")."""
    if _set(env, "OTEL_SDK_DISABLED").lower() == "true":
        return []
    value = _set(env, _EXPORTER_VARS[signal]).lower()
    if not value:
        return ["otlp"] if any(_set(env, name) for name in _ENDPOINTS[signal]) else []
    return [name for name in (n.strip() for n in value.split(",")) if name and name != "none"]


def _protocol(signal: str) -> str:
    for name in _PROTOCOL_VARS[signal]:
        if _set(os.environ, name):
            return _set(os.environ, name).lower()
    return "http/protobuf"


class Installed:
    """The providers this module installed."""

    def __init__(self, providers: list[Any]) -> None:
        self.providers = providers


def finish(installed: Installed | None) -> None:
    """Shut down the providers we installed and flush a host's (``opentelemetry-instrument``
    registers its shutdown with ``atexit``, which the CLI's hard exit skips), waiting at
    most ``SHUTDOWN_BUDGET_S`` in all; what is still being sent after that is dropped."""
    ours = installed.providers if installed is not None else []
    ends: list[Callable[[], object]] = [p.shutdown for p in ours]
    for provider in _global_providers():
        if all(provider is not p for p in ours) and callable(getattr(provider, "force_flush", None)):
            ends.append(provider.force_flush)
    deadline = time.monotonic() + SHUTDOWN_BUDGET_S
    threads = [threading.Thread(target=_quietly(end), name="attune-otel-flush", daemon=True) for end in ends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        logger.info("OpenTelemetry export did not finish in %.1f s; the rest is dropped", SHUTDOWN_BUDGET_S)


def _global_providers() -> list[Any]:
    """The installed global providers, without importing OpenTelemetry when nothing did."""
    found: list[Any] = []
    trace = sys.modules.get("opentelemetry.trace")
    if trace is not None:
        found.append(trace.get_tracer_provider())
    metrics = sys.modules.get("opentelemetry.metrics")
    if metrics is not None:
        found.append(metrics.get_meter_provider())
    return found


def _quietly(work: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            work()
        except Exception as exc:  # an exporter's failure never reaches the command
            logger.info("OpenTelemetry flush failed: %s: %s", type(exc).__name__, exc)

    return run


def install() -> Installed | None:
    """Install the SDK's providers as OTEL_* asks (module docstring); None when nothing
    was installed. Never raises: a broken configuration is one line on stderr."""
    wanted = {signal: exporters_for(signal) for signal in ("traces", "metrics")}
    if not any(wanted.values()):
        return None
    try:
        return _install(wanted)
    except ImportError as exc:
        logger.info("OTEL_* is set but the OpenTelemetry SDK is not installed (%s): nothing is exported", exc)
    except Exception as exc:
        print(f"attune: OpenTelemetry export is off: {type(exc).__name__}: {exc}", file=sys.stderr)
    return None


def _span_exporters(names: list[str]) -> list[Any]:
    exporters: list[Any] = []
    for name in names:
        if name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporters.append(ConsoleSpanExporter(out=sys.stderr))
        elif name == "otlp" and _otlp_over_http("traces"):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter(timeout=_timeout("traces")))
        elif name != "otlp":
            _unsupported("OTEL_TRACES_EXPORTER", name)
    return exporters


def _metric_exporters(names: list[str]) -> list[Any]:
    exporters: list[Any] = []
    for name in names:
        if name == "console":
            from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

            exporters.append(ConsoleMetricExporter(out=sys.stderr))
        elif name == "otlp" and _otlp_over_http("metrics"):
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

            exporters.append(OTLPMetricExporter(timeout=_timeout("metrics")))
        elif name != "otlp":
            _unsupported("OTEL_METRICS_EXPORTER", name)
    return exporters


def _otlp_over_http(signal: str) -> bool:
    protocol = _protocol(signal)
    if protocol.startswith("http/"):
        return True
    print(f"attune: exports OTLP over HTTP only; protocol {protocol!r} is not supported: no {signal}", file=sys.stderr)
    return False


def _timeout(signal: str) -> float | None:
    """The exporter's timeout: the configured one, else ``EXPORT_TIMEOUT_S`` (the SDK's
    default, ten seconds, with retries inside it, would outlast the shutdown budget)."""
    names = ("OTEL_EXPORTER_OTLP_TIMEOUT", f"OTEL_EXPORTER_OTLP_{signal.upper()}_TIMEOUT")
    return None if any(_set(os.environ, name) for name in names) else EXPORT_TIMEOUT_S


def _unsupported(variable: str, name: str) -> None:
    print(f"attune: {variable}={name!r} is not supported (use otlp, console or none)", file=sys.stderr)


def _install(wanted: dict[str, list[str]]) -> Installed | None:
    from opentelemetry import metrics, trace
    from opentelemetry.metrics._internal import _ProxyMeterProvider
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    named = bool(_set(os.environ, "OTEL_SERVICE_NAME")) or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    resource = Resource.create({} if named else {SERVICE_NAME: DEFAULT_SERVICE_NAME})
    providers: list[Any] = []
    # a provider installed already (opentelemetry-instrument, the host's code) is theirs to run
    if wanted["traces"] and isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        span_exporters = _span_exporters(wanted["traces"])
        if span_exporters:
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
            for exporter in span_exporters:
                tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
            trace.set_tracer_provider(tracer_provider)
            providers.append(tracer_provider)
    if wanted["metrics"] and isinstance(metrics.get_meter_provider(), _ProxyMeterProvider):
        metric_exporters = _metric_exporters(wanted["metrics"])
        if metric_exporters:
            from opentelemetry.sdk.metrics import MeterProvider
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

            readers = [PeriodicExportingMetricReader(exporter) for exporter in metric_exporters]
            meter_provider = MeterProvider(resource=resource, metric_readers=readers, shutdown_on_exit=False)
            metrics.set_meter_provider(meter_provider)
            providers.append(meter_provider)
    return Installed(providers) if providers else None


def exported(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``work(*args, **kwargs)`` with the SDK's providers installed around it when OTEL_*
    asks for export (``install``), flushed at its end (``finish``)."""
    installed = install()
    try:
        return work(*args, **kwargs)
    finally:
        finish(installed)
