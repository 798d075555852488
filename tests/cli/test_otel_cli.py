"""`attune run` as an OpenTelemetry host application (attune.cli.otel): with OTEL_*
configured it exports its spans and metrics over OTLP/HTTP to the collector named,
without it nothing is installed, and a collector that is down never fails the run.

The collector is a loopback HTTP server that keeps what it is sent; the run goes
through the real SDK to the realistic fake API."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from support.fake_anthropic import TEST_API_KEY, closed_port_url

DEADLINE_S = 60  # a wait that only ends a broken test; nothing is timed against it


class Collector:
    """Keeps the body of every POST, by path; answers 200 with an empty export response."""

    def __init__(self) -> None:
        self.received: dict[str, list[bytes]] = {}
        self._lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with collector._lock:
                    collector.received.setdefault(self.path, []).append(body)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def spans(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(service.name, span name, attributes) of every span received."""
        found = []
        for body in self.received.get("/v1/traces", []):
            request = ExportTraceServiceRequest.FromString(body)
            for resource_spans in request.resource_spans:
                service = _attributes(resource_spans.resource.attributes).get("service.name")
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        found.append((service, span.name, _attributes(span.attributes)))
        return found

    def metric_names(self) -> set[str]:
        names = set()
        for body in self.received.get("/v1/metrics", []):
            request = ExportMetricsServiceRequest.FromString(body)
            for resource_metrics in request.resource_metrics:
                for scope_metrics in resource_metrics.scope_metrics:
                    names.update(m.name for m in scope_metrics.metrics)
        return names

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _attributes(pairs: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for kv in pairs:
        kind = kv.value.WhichOneof("value")
        values[kv.key] = getattr(kv.value, kind) if kind else None
    return values


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.stop()


@pytest.fixture
def module(tmp_path: Path) -> Path:
    path = tmp_path / "shapes.py"
    path.write_text("def area(width, height):\n    return width * height\n" * 6, encoding="utf-8")
    return path


def no_otel(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if not k.startswith("OTEL_")}


def attune(cmd: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cmd, *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=DEADLINE_S
    )


def test_with_an_otlp_endpoint_the_run_sends_its_spans_and_metrics(attune_cmd, api_env, module, collector):
    env = {**no_otel(api_env), "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url}

    result = attune(attune_cmd, env, "run", "explain", str(module), "--yes", "--json")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # the JSON on stdout is untouched
    assert data["status"] == "ok"
    spans = collector.spans()
    names = [name for _, name, _ in spans]
    assert names.count("attune.run explain") == 1
    assert names.count("anthropic.messages.create") == 2  # the SDK's, one per stage
    [run] = [a for _, name, a in spans if name == "attune.run explain"]
    assert run["attune.run_id"] == data["run_id"] and run["attune.mode"] == "api"
    stages = [a for _, name, a in spans if name.startswith("chat ") and "attune.attempts" in a]
    assert sorted(a["attune.stage"] for a in stages) == ["explain", "map"]
    assert sum(a["gen_ai.usage.output_tokens"] for a in stages) == sum(s["output_tokens"] for s in data["stages"])
    assert {service for service, _, _ in spans} == {"attune"}  # OTEL_SERVICE_NAME's default
    assert {"gen_ai.client.token.usage", "gen_ai.client.operation.duration"} <= collector.metric_names()
    assert TEST_API_KEY.encode() not in b"".join(b for bodies in collector.received.values() for b in bodies)


def test_otel_service_name_names_the_service(attune_cmd, api_env, module, collector):
    env = {**no_otel(api_env), "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_SERVICE_NAME": "ci-docs"}

    result = attune(attune_cmd, env, "run", "explain", str(module), "--yes")

    assert result.returncode == 0, result.stderr
    assert {service for service, _, _ in collector.spans()} == {"ci-docs"}


def test_a_collector_that_refuses_does_not_fail_the_run(attune_cmd, api_env, module):
    env = {**no_otel(api_env), "OTEL_EXPORTER_OTLP_ENDPOINT": closed_port_url()}

    result = attune(attune_cmd, env, "run", "explain", str(module), "--yes", "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "ok"


INSTALL = textwrap.dedent(
    """
    import json, sys
    from opentelemetry import trace
    if sys.argv[1] == "host":  # a host (opentelemetry-instrument) installed its provider first
        from opentelemetry.sdk.trace import TracerProvider
        trace.set_tracer_provider(TracerProvider())
    before = trace.get_tracer_provider()
    from attune.cli.otel import install
    installed = install()
    print(json.dumps({
        "installed": installed is not None,
        "replaced": trace.get_tracer_provider() is not before,
        "sdk_loaded": any(m.startswith("opentelemetry.sdk") for m in sys.modules),
    }))
    """
)


def install_in_a_process(env: dict[str, str], host: bool = False) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", INSTALL, "host" if host else "none"],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_without_otel_configuration_nothing_is_installed_or_loaded(cli_env):
    env = {**no_otel(cli_env), "OTEL_SERVICE_NAME": "attune"}  # a name alone asks for no export

    assert install_in_a_process(env) == {"installed": False, "replaced": False, "sdk_loaded": False}


def test_otel_sdk_disabled_turns_export_off(cli_env, collector):
    env = {**no_otel(cli_env), "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_SDK_DISABLED": "true"}

    assert install_in_a_process(env) == {"installed": False, "replaced": False, "sdk_loaded": False}


def test_with_configuration_it_installs_the_sdk_unless_a_host_did(cli_env, collector):
    env = {**no_otel(cli_env), "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url}

    assert install_in_a_process(env)["replaced"] is True
    # opentelemetry-instrument (or the user's code) installed one: attune's spans go there
    assert install_in_a_process(env, host=True)["replaced"] is False


HOST = textwrap.dedent(
    """
    import sys
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # what opentelemetry-instrument does before the program starts
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=sys.argv[1] + "/v1/traces")))
    trace.set_tracer_provider(provider)
    sys.argv = ["attune", *sys.argv[2:]]
    from attune.cli.main import run
    run()  # ends with os._exit, which skips the SDK's atexit shutdown
    """
)


def test_a_hosts_provider_gets_the_spans_flushed_before_the_hard_exit(api_env, module, collector):
    done = subprocess.run(
        [sys.executable, "-c", HOST, collector.url, "run", "explain", str(module), "--yes"],
        env=no_otel(api_env),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=DEADLINE_S,
    )

    assert done.returncode == 0, done.stderr
    names = [name for _, name, _ in collector.spans()]
    assert names.count("attune.run explain") == 1 and names.count("anthropic.messages.create") == 2


def test_calibrate_sends_the_sdks_count_tokens_spans(attune_cmd, api_env, stdlib_tree, collector):
    env = {**no_otel(api_env), "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url}

    result = attune(attune_cmd, env, "calibrate", str(stdlib_tree), "--yes", "--sample", "3")

    assert result.returncode == 0, result.stderr
    names = [name for _, name, _ in collector.spans()]
    assert names.count("anthropic.messages.count_tokens") >= 3
