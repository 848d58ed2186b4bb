"""Outbound calls' duration over OTLP: http.client.request.duration, instead of or beside
prometheus-client's histogram."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from _otlp_support import OTel, attrs
from prometheus_client import CollectorRegistry

from toolkit import semconv
from toolkit.outbound import (
    ClientMetrics,
    OTLPClientMetrics,
    OutboundTelemetry,
    Transport,
    client_metrics,
)
from toolkit.outbound._metrics import PairedClientMetrics

DURATION = semconv.OTLP_HTTP_CLIENT_REQUEST_DURATION


@pytest.fixture
def otel() -> Iterator[OTel]:
    found = OTel()
    yield found
    found.provider.shutdown()


def client_count(registry: CollectorRegistry, status: str) -> float | None:
    labels = {
        semconv.LABEL_METHOD: "GET",
        semconv.LABEL_SERVER_ADDRESS: "billing",
        semconv.LABEL_SERVER_PORT: "8080",
        semconv.LABEL_STATUS_CODE: status,
        semconv.LABEL_ERROR_TYPE: "" if status == "200" else status,
    }
    return registry.get_sample_value(semconv.HTTP_CLIENT_REQUEST_DURATION + "_count", labels)


def test_otlp_instead_records_the_conventions_histogram(otel: OTel) -> None:
    """metrics_exporter="otlp": port and status as integers, error.type only when set,
    seconds with the advisory buckets; prometheus-client gets no series."""
    registry = CollectorRegistry()
    telemetry = OutboundTelemetry(
        registry=registry,
        tracing=False,
        metrics_exporter="otlp",
        meter_provider=otel.provider,
    )
    url = urlsplit("http://billing:8080/invoices")
    for status in (200, 200, 503):
        telemetry.start("GET", url, {}, None).finish(status)
    telemetry.start("GET", urlsplit("http://billing/x"), {}, None).finish(None, TimeoutError())

    assert otel.counts(DURATION) == {
        attrs(method="GET", address="billing", port=8080, status=200): 2,
        attrs(method="GET", address="billing", port=8080, status=503, error="503"): 1,
        attrs(method="GET", address="billing", port=80, error="TimeoutError"): 1,
    }
    metric = otel.metric(DURATION)
    assert metric.unit == "s"
    (point, *_) = metric.data.data_points
    assert tuple(point.explicit_bounds) == semconv.DURATION_BUCKETS
    assert client_count(registry, "200") is None


def test_both_records_each_call_twice(otel: OTel) -> None:
    """metrics_exporter="both": the call is in both backends."""
    registry = CollectorRegistry()
    telemetry = OutboundTelemetry(
        registry=registry, tracing=False, metrics_exporter="both", meter_provider=otel.provider
    )
    telemetry.start("GET", urlsplit("http://billing:8080/"), {}, None).finish(200)

    assert otel.counts(DURATION) == {
        attrs(method="GET", address="billing", port=8080, status=200): 1
    }
    assert client_count(registry, "200") == 1.0


@pytest.mark.parametrize(
    ("keyword", "environ", "expected"),
    [
        (None, {}, ClientMetrics),
        (None, {"OTEL_METRICS_EXPORTER": "otlp"}, OTLPClientMetrics),
        (None, {"OTEL_METRICS_EXPORTER": "otlp,prometheus"}, PairedClientMetrics),
        ("prometheus", {"OTEL_METRICS_EXPORTER": "otlp"}, ClientMetrics),
    ],
)
def test_exporter_resolution(
    keyword: str | None, environ: dict[str, str], expected: type, otel: OTel
) -> None:
    """metrics_exporter > OTEL_METRICS_EXPORTER > Prometheus; the default is unchanged:
    prometheus-client's collectors of the registry, nothing else."""
    registry = CollectorRegistry()
    telemetry = OutboundTelemetry(
        registry=registry,
        tracing=False,
        environ=environ,
        metrics_exporter=keyword,
        meter_provider=otel.provider,
    )

    assert type(telemetry.metrics) is expected
    if expected is ClientMetrics:
        assert telemetry.metrics is client_metrics(registry)


def test_httpx_transport_takes_the_options(otel: OTel) -> None:
    """The options reach a real transport: one call through httpx is recorded over OTLP."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(204)

    transport = Transport(
        httpx.MockTransport(answer),
        registry=CollectorRegistry(),
        tracing=False,
        metrics_exporter="otlp",
        meter_provider=otel.provider,
    )
    with httpx.Client(transport=transport) as client:
        client.get("http://billing:8080/ping")

    assert otel.counts(DURATION) == {
        attrs(method="GET", address="billing", port=8080, status=204): 1
    }
