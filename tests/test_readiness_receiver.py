"""Tests for toolkit.readiness.probe.receiver: the probe's own OTLP/HTTP receiver."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from toolkit.readiness.probe.receiver import (
    SPAN_KIND_SERVER,
    ReceivedPoint,
    SpanReceiver,
    decode_metrics,
    decode_spans,
)

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
PARENT_ID = 0x00F067AA0BA902B7


@pytest.fixture
def receiver() -> Iterator[SpanReceiver]:
    """A receiver on a free port."""
    with SpanReceiver(port=0) as running:
        yield running


def _export_server_span(endpoint: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "orders"}))
    exporter = OTLPSpanExporter(endpoint=endpoint + "/v1/traces")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    parent = SpanContext(TRACE_ID, PARENT_ID, is_remote=True, trace_flags=TraceFlags(1))
    context = trace.set_span_in_context(NonRecordingSpan(parent))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span(
        "GET /items/{id}", context=context, kind=SpanKind.SERVER
    ) as span:
        span.set_attribute("correlation.id", "abc-123")
        span.set_attribute("http.response.status_code", 200)
    provider.shutdown()


def test_span_exported_by_the_sdk_is_received_with_its_parent(receiver: SpanReceiver) -> None:
    """The OTLP/HTTP exporter's protobuf arrives decoded: IDs in hex, attributes, service."""
    _export_server_span(receiver.endpoint)
    span = receiver.wait_for(f"{TRACE_ID:032x}", f"{PARENT_ID:016x}", timeout=5)
    assert span is not None
    assert (span.name, span.kind, span.service) == ("GET /items/{id}", SPAN_KIND_SERVER, "orders")
    assert span.attributes == {"correlation.id": "abc-123", "http.response.status_code": 200}


def test_wait_for_an_unknown_trace_returns_none(receiver: SpanReceiver) -> None:
    """No such span: ``None`` once the timeout has passed."""
    assert receiver.wait_for("0" * 32, "0" * 16, timeout=0.05) is None


@pytest.mark.parametrize(
    ("path", "content_type", "body", "status"),
    [
        ("/v1/logs", "application/x-protobuf", b"", 404),
        ("/v1/traces", "application/json", b"{}", 415),
        ("/v1/metrics", "application/json", b"{}", 415),
        ("/v1/traces", "application/x-protobuf", b"\xff\xff\xff", 400),
        ("/v1/metrics", "application/x-protobuf", b"\xff\xff\xff", 400),
    ],
)
def test_other_requests_are_refused(
    receiver: SpanReceiver, path: str, content_type: str, body: bytes, status: int
) -> None:
    """Other paths, JSON encoding and broken protobuf get 404, 415 and 400."""
    response = httpx.post(
        receiver.endpoint + path, content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == status
    assert receiver.spans() == []
    assert receiver.points() == []


def test_empty_request_decodes_to_no_spans() -> None:
    """An empty ``ExportTraceServiceRequest`` holds no spans."""
    assert decode_spans(b"") == []


def test_empty_request_decodes_to_no_points() -> None:
    """An empty ``ExportMetricsServiceRequest`` holds no data points."""
    assert decode_metrics(b"") == []


def _export_metrics(endpoint: str) -> None:
    exporter = OTLPMetricExporter(endpoint=endpoint + "/v1/metrics")
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(
        metric_readers=[reader], resource=Resource.create({"service.name": "orders"})
    )
    meter = provider.get_meter("test")
    histogram = meter.create_histogram(
        "http.server.request.duration", unit="s", explicit_bucket_boundaries_advisory=[0.1, 1.0]
    )
    for seconds in (0.05, 0.5, 2.0):
        histogram.record(seconds, {"http.route": "/items/{id}", "http.response.status_code": 200})
    meter.create_up_down_counter("http.server.active_requests", unit="{request}").add(
        2, {"url.scheme": "http"}
    )
    provider.shutdown()  # the last collection is pushed


def test_metrics_exported_by_the_sdk_are_received_as_points(receiver: SpanReceiver) -> None:
    """The OTLP/HTTP metric exporter's protobuf arrives as data points: name, unit, kind,
    attributes, service and scope; a histogram's count, sum and buckets, a sum's value."""
    _export_metrics(receiver.endpoint)

    duration = receiver.wait_for_point("http.server.request.duration", timeout=5)
    active = receiver.wait_for_point("http.server.active_requests", timeout=5)

    assert duration == ReceivedPoint(
        name="http.server.request.duration",
        unit="s",
        kind="histogram",
        attributes={"http.route": "/items/{id}", "http.response.status_code": 200},
        service="orders",
        scope="test",
        count=3,
        sum=2.55,
        bounds=(0.1, 1.0),
        bucket_counts=(1, 1, 1),
    )
    assert active == ReceivedPoint(
        name="http.server.active_requests",
        unit="{request}",
        kind="sum",
        attributes={"url.scheme": "http"},
        service="orders",
        scope="test",
        value=2,
    )
    assert receiver.spans() == []


def test_wait_for_point_applies_the_match(receiver: SpanReceiver) -> None:
    """A point the match refuses is not returned: ``None`` once the timeout has passed."""
    _export_metrics(receiver.endpoint)
    assert receiver.wait_for_point("http.server.active_requests", 5, lambda p: p.value == 2)
    assert (
        receiver.wait_for_point("http.server.active_requests", 0.05, lambda p: p.value == 3) is None
    )
