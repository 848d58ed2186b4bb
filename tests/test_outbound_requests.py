"""toolkit.outbound for requests: the wrapping adapter and instrument_session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import requests
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry
from requests.adapters import BaseAdapter, HTTPAdapter

from toolkit import semconv
from toolkit.context import correlation_id_var
from toolkit.outbound import TelemetryAdapter, instrument_session
from toolkit.resilience.breaker import CircuitBreaker
from toolkit.resilience.breaker.requests_adapter import BreakerAdapter


class StubAdapter(BaseAdapter):
    """Answers every request with ``status`` (or raises ``error``); keeps the headers sent."""

    def __init__(self, status: int = 200, error: Exception | None = None) -> None:
        super().__init__()
        self.status = status
        self.error = error
        self.sent: list[Mapping[str, str]] = []
        self.closed = False

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        self.sent.append(dict(request.headers))
        if self.error is not None:
            raise self.error
        response = requests.Response()
        response.status_code = self.status
        response.request = request
        response.url = request.url or ""
        response._content = b"ok"
        return response

    def close(self) -> None:
        self.closed = True


def fresh() -> tuple[TracerProvider, InMemorySpanExporter, CollectorRegistry]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter, CollectorRegistry()


def count(registry: CollectorRegistry, status: str, error: str) -> float | None:
    return registry.get_sample_value(
        semconv.HTTP_CLIENT_REQUEST_DURATION + "_count",
        {
            semconv.LABEL_METHOD: "POST",
            semconv.LABEL_SERVER_ADDRESS: "billing.internal",
            semconv.LABEL_SERVER_PORT: "80",
            semconv.LABEL_STATUS_CODE: status,
            semconv.LABEL_ERROR_TYPE: error,
        },
    )


def test_adapter_injects_traces_and_counts() -> None:
    """A POST through the adapter carries correlation ID and traceparent; span + metric."""
    provider, exporter, registry = fresh()
    stub = StubAdapter()
    session = requests.Session()
    session.mount("http://", TelemetryAdapter(stub, tracer_provider=provider, registry=registry))
    token = correlation_id_var.set("cid-9")
    try:
        response = session.post("http://billing.internal/invoices", json={"a": 1})
    finally:
        correlation_id_var.reset(token)
    assert response.status_code == 200
    (span,) = exporter.get_finished_spans()
    assert span.kind == SpanKind.CLIENT
    assert span.name == "POST"
    assert dict(span.attributes or {}) == {
        "http.request.method": "POST",
        "server.address": "billing.internal",
        "server.port": 80,
        "url.full": "http://billing.internal/invoices",
        "http.response.status_code": 200,
        "correlation.id": "cid-9",
    }
    sent = stub.sent[0]
    assert sent["X-Request-ID"] == "cid-9"
    assert sent["traceparent"].split("-")[2] == f"{span.context.span_id:016x}"
    assert count(registry, "200", "") == 1.0


def test_connection_error_is_raised_and_recorded() -> None:
    """The wrapped adapter's exception reaches the caller; the call is counted as failed."""
    provider, _, registry = fresh()
    stub = StubAdapter(error=requests.ConnectionError("refused"))
    session = requests.Session()
    session.mount("http://", TelemetryAdapter(stub, tracer_provider=provider, registry=registry))
    with pytest.raises(requests.ConnectionError):
        session.post("http://billing.internal/invoices")
    assert count(registry, "", "requests.exceptions.ConnectionError") == 1.0


def test_instrument_session_wraps_mounted_adapters_once() -> None:
    """Every mounted adapter is wrapped (the breaker's too), and twice changes nothing."""
    provider, _, registry = fresh()
    session = requests.Session()
    breaker = CircuitBreaker("billing", registry=registry)
    session.mount("http://billing.internal/", BreakerAdapter(breaker))
    instrument_session(session, tracer_provider=provider, registry=registry)
    first = dict(session.adapters)
    instrument_session(session, tracer_provider=provider, registry=registry)
    assert dict(session.adapters) == first
    assert all(isinstance(a, TelemetryAdapter) for a in session.adapters.values())
    wrapped = session.adapters["http://billing.internal/"]
    assert isinstance(wrapped, TelemetryAdapter)
    assert isinstance(wrapped.adapter, BreakerAdapter)
    assert isinstance(session.adapters["https://"], TelemetryAdapter)
    assert wrapped.max_retries is wrapped.adapter.max_retries  # attributes read through


def test_close_closes_the_wrapped_adapter() -> None:
    """Closing the session closes what the adapter wraps."""
    stub = StubAdapter()
    adapter = TelemetryAdapter(stub, registry=CollectorRegistry())
    adapter.close()
    assert stub.closed is True


def test_default_adapter_is_http_adapter() -> None:
    """Without an adapter to wrap, a plain HTTPAdapter sends."""
    adapter = TelemetryAdapter(registry=CollectorRegistry())
    assert type(adapter.adapter) is HTTPAdapter
