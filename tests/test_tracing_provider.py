"""build_tracer_provider(): resource and exporters from the OTEL_* environment."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from toolkit.tracing import TracingConfigError
from toolkit.tracing._provider import build_tracer_provider, installed_exporters

GRPC_MODULE = "opentelemetry.exporter.otlp.proto.grpc.trace_exporter"
HTTP_MODULE = "opentelemetry.exporter.otlp.proto.http.trace_exporter"
HTTP_OTLP = f"{HTTP_MODULE}.OTLPSpanExporter"
GRPC_OTLP = f"{GRPC_MODULE}.OTLPSpanExporter"
CONSOLE = "opentelemetry.sdk.trace.export.ConsoleSpanExporter"


def processor_exporters(environ: dict[str, str]) -> list[str]:
    provider = build_tracer_provider("orders", environ)
    found = []
    for processor in provider._active_span_processor._span_processors:
        # The batch processor's exporter is toolkit's counting wrapper around the real one.
        exporter = processor._batch_processor._exporter.exporter  # type: ignore[attr-defined]
        found.append(f"{type(exporter).__module__}.{type(exporter).__name__}")
    provider.shutdown()
    return found


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, []),
        ({"OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, [HTTP_OTLP]),
        (
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"},
            [HTTP_OTLP],
        ),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, [HTTP_OTLP]),
        ({"OTEL_TRACES_EXPORTER": "console"}, [CONSOLE]),
        ({"OTEL_TRACES_EXPORTER": "otlp,console"}, [HTTP_OTLP, CONSOLE]),
        # Names registered in the opentelemetry_traces_exporter entry points, as the SDK
        # reads them.
        ({"OTEL_TRACES_EXPORTER": "otlp_proto_http"}, [HTTP_OTLP]),
        # OTEL_SDK_DISABLED=true: the provider hands out no-op tracers, nothing to export.
        ({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "TRUE"}, []),
        ({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "false"}, [CONSOLE]),
    ],
)
def test_exporters_only_when_configured(environ: dict[str, str], expected: list[str]) -> None:
    """Spans are exported (through a BatchSpanProcessor) only when the environment asks."""
    assert processor_exporters(environ) == expected


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, HTTP_OTLP),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, GRPC_OTLP),
        ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": " grpc "}, GRPC_OTLP),
        (
            {
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            },
            HTTP_OTLP,
        ),
        (
            {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"} | {"OTEL_TRACES_EXPORTER": "otlp"},
            HTTP_OTLP,
        ),
    ],
)
def test_otlp_protocol_picks_the_exporter(environ: dict[str, str], expected: str) -> None:
    """OTEL_EXPORTER_OTLP_TRACES_PROTOCOL > OTEL_EXPORTER_OTLP_PROTOCOL > http/protobuf."""
    pytest.importorskip(GRPC_MODULE)
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", **environ}
    assert processor_exporters(environ) == [expected]


def test_unsupported_protocol_is_one_line_naming_the_choices() -> None:
    """http/json (or a typo) fails at start-up with the variable and the two choices."""
    environ = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}
    with pytest.raises(TracingConfigError) as raised:
        build_tracer_provider("orders", environ)
    assert str(raised.value) == (
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL='http/json' is not supported: set it to grpc or "
        "http/protobuf"
    )
    assert (raised.value.variable, raised.value.value) == (
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "http/json",
    )
    assert isinstance(raised.value, ValueError)


def test_protocol_is_not_read_without_otlp() -> None:
    """Only the OTLP exporter reads the protocol: console with a bad one is fine."""
    environ = {"OTEL_TRACES_EXPORTER": "console", "OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"}
    assert processor_exporters(environ) == [CONSOLE]


def test_grpc_without_the_extra_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    """grpc asked, the gRPC exporter not importable: one line saying pip install
    'toolkit-observability[grpc]', no chained ImportError, and no export thread started."""
    monkeypatch.setitem(sys.modules, GRPC_MODULE, None)  # import fails as if not installed
    threads = threading.active_count()
    environ = {"OTEL_TRACES_EXPORTER": "console,otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
    with pytest.raises(TracingConfigError) as raised:
        build_tracer_provider("orders", environ)
    message = str(raised.value)
    assert message.startswith(
        "OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs the OTLP/gRPC exporter, which is not installed ("
    )
    assert message.endswith(
        "): pip install 'toolkit-observability[grpc]', or set it to http/protobuf"
    )
    assert "\n" not in message
    assert raised.value.__suppress_context__ is True
    assert threading.active_count() == threads


def test_unknown_exporter_names_the_installed_ones() -> None:
    """A name no installed package registers (zipkin, a typo) fails at start-up, listing
    what this environment accepts."""
    choices = installed_exporters()
    assert {"console", "none", "otlp", "otlp_proto_http"} <= set(choices)
    with pytest.raises(TracingConfigError) as raised:
        build_tracer_provider("orders", {"OTEL_TRACES_EXPORTER": "zipkin"})
    assert str(raised.value) == (
        "OTEL_TRACES_EXPORTER: no span exporter 'zipkin' is installed (install its package, "
        f"or use one of: {', '.join(choices)})"
    )


EXPORTER_MODULE = """
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


class MemoryExporter(SpanExporter):
    spans = []

    def export(self, spans):
        MemoryExporter.spans.extend(spans)
        return SpanExportResult.SUCCESS


class NotAnExporter:
    pass
"""


@pytest.fixture
def registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A distribution on sys.path registering three opentelemetry_traces_exporter entry
    points: a working exporter, a class that is no exporter, and a missing module."""
    (tmp_path / "toolkit_test_exporter.py").write_text(EXPORTER_MODULE)
    info = tmp_path / "toolkit_test_exporter-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: toolkit-test-exporter\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[opentelemetry_traces_exporter]\n"
        "memory = toolkit_test_exporter:MemoryExporter\n"
        "bogus = toolkit_test_exporter:NotAnExporter\n"
        "broken = toolkit_test_exporter_missing:Exporter\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("toolkit_test_exporter", None)


@pytest.mark.usefixtures("registered")
def test_any_exporter_registered_through_entry_points() -> None:
    """OTEL_TRACES_EXPORTER accepts a third-party exporter's entry-point name, as the SDK
    does; spans reach it."""
    provider = build_tracer_provider("orders", {"OTEL_TRACES_EXPORTER": "memory"})
    provider.get_tracer("test").start_span("work").end()
    provider.shutdown()
    exporter = sys.modules["toolkit_test_exporter"].MemoryExporter
    assert [span.name for span in exporter.spans] == ["work"]
    assert "memory" in installed_exporters()


@pytest.mark.usefixtures("registered")
@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "bogus",
            "OTEL_TRACES_EXPORTER: 'bogus' (toolkit_test_exporter:NotAnExporter) is not a "
            "span exporter",
        ),
        (
            "broken",
            "OTEL_TRACES_EXPORTER: span exporter 'broken' (toolkit_test_exporter_missing:"
            "Exporter) cannot be loaded: ModuleNotFoundError: No module named "
            "'toolkit_test_exporter_missing'",
        ),
    ],
)
def test_registered_entry_that_is_no_exporter(name: str, message: str) -> None:
    """An entry point that is not a SpanExporter, or cannot be imported: one line."""
    with pytest.raises(TracingConfigError) as raised:
        build_tracer_provider("orders", {"OTEL_TRACES_EXPORTER": name})
    assert str(raised.value) == message


def test_resource_names_the_service() -> None:
    """service.name is the service given."""
    provider = build_tracer_provider("orders", {})
    assert provider.resource.attributes["service.name"] == "orders"


class _Collector:
    """A TraceService that keeps what it receives (the OTLP/gRPC receiver of the test)."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.received = threading.Event()

    def export(self, request: Any, context: Any) -> Any:
        """TraceService/Export: keep the request, answer success."""
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceResponse,
        )

        self.requests.append(request)
        self.received.set()
        return ExportTraceServiceResponse()


def test_grpc_export_reaches_a_real_grpc_receiver(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc: spans go over gRPC to a TraceService on
    127.0.0.1 (grpcio's server, the OTLP proto's service), with the service's resource."""
    grpc = pytest.importorskip("grpc")
    pytest.importorskip(GRPC_MODULE)
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    collector = _Collector()
    servicer = type("Servicer", (trace_service_pb2_grpc.TraceServiceServicer,), {})()
    servicer.Export = collector.export  # type: ignore[method-assign]
    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        # The exporter reads its endpoint from the process environment.
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "5")
        provider = build_tracer_provider("orders")
        provider.get_tracer("test").start_span("over grpc").end()
        assert provider.force_flush(10_000)
        provider.shutdown()
        assert collector.received.wait(5)
    finally:
        server.stop(grace=None)
    [request] = collector.requests
    [resource_spans] = request.resource_spans
    resource = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
    names = [span.name for scope in resource_spans.scope_spans for span in scope.spans]
    assert (resource["service.name"], names) == ("orders", ["over grpc"])
