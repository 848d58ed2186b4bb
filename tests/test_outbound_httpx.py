"""toolkit.outbound httpx transports: headers injected, CLIENT span, client duration metric."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CollectorRegistry

from toolkit import semconv
from toolkit.context import correlation_id_var
from toolkit.outbound import AsyncTransport, Transport, async_httpx_transport, httpx_transport
from toolkit.resilience.breaker import CircuitBreaker
from toolkit.resilience.breaker.httpx_transport import AsyncBreakerTransport, BreakerTransport

URL = "http://billing.internal:8080/invoices?page=2"


class Upstream:
    """A mock dependency: records the headers it got, answers ``status`` or raises."""

    def __init__(self) -> None:
        self.status = 200
        self.error: Exception | None = None
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(request.headers)
        if self.error is not None:
            raise self.error
        return httpx.Response(self.status, text="ok")


class Setup:
    """Fresh provider, exporter and registry; a sync or async client over the transport."""

    def __init__(self, mode: str, **options: Any) -> None:
        self.mode = mode
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.registry = CollectorRegistry()
        self.upstream = Upstream()
        self.options = {"tracer_provider": self.provider, "registry": self.registry, **options}
        mock = httpx.MockTransport(self.upstream)
        self.sync = Transport(mock, **self.options)
        self.aio = AsyncTransport(mock, **self.options)

    async def get(self, url: str = URL, breaker: CircuitBreaker | None = None) -> httpx.Response:
        """One GET through the transport built once (inside ``breaker``'s when given)."""
        if self.mode == "sync":
            sync: httpx.BaseTransport = self.sync
            if breaker is not None:
                sync = BreakerTransport(breaker, transport=sync)
            return httpx.Client(transport=sync).get(url)
        aio: httpx.AsyncBaseTransport = self.aio
        if breaker is not None:
            aio = AsyncBreakerTransport(breaker, transport=aio)
        return await httpx.AsyncClient(transport=aio).get(url)

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def count(self, status: str, error: str, address: str = "billing.internal") -> float | None:
        return self.registry.get_sample_value(
            semconv.HTTP_CLIENT_REQUEST_DURATION + "_count",
            {
                semconv.LABEL_METHOD: "GET",
                semconv.LABEL_SERVER_ADDRESS: address,
                semconv.LABEL_SERVER_PORT: "8080",
                semconv.LABEL_STATUS_CODE: status,
                semconv.LABEL_ERROR_TYPE: error,
            },
        )


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def correlation() -> Iterator[str]:
    token = correlation_id_var.set("cid-123")
    try:
        yield "cid-123"
    finally:
        correlation_id_var.reset(token)


async def test_headers_span_and_metric(mode: str, correlation: str) -> None:
    """One call carries the correlation ID and a traceparent naming its CLIENT span,
    whose attributes follow the conventions, and is counted under its target."""
    setup = Setup(mode)
    response = await setup.get()
    assert response.status_code == 200
    (span,) = setup.spans()
    assert span.kind == SpanKind.CLIENT
    assert span.name == "GET"
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "server.address": "billing.internal",
        "server.port": 8080,
        "url.full": URL,
        "http.response.status_code": 200,
        "correlation.id": "cid-123",
    }
    headers = setup.upstream.headers[0]
    assert headers["x-request-id"] == "cid-123"
    context = span.get_span_context()
    assert headers["traceparent"] == (
        f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
    )
    assert setup.count("200", "") == 1.0


async def test_span_is_child_of_current_span(mode: str) -> None:
    """Inside a request's span the CLIENT span is its child, in the same trace."""
    setup = Setup(mode)
    tracer = setup.provider.get_tracer("test")
    with tracer.start_as_current_span("server") as parent:
        await setup.get()
    client, server = setup.spans()
    assert client.parent is not None
    assert client.parent.span_id == parent.get_span_context().span_id
    assert client.context.trace_id == server.context.trace_id


async def test_caller_correlation_header_is_kept(mode: str, correlation: str) -> None:
    """A correlation header the caller set explicitly is not overwritten."""
    setup = Setup(mode)
    mock = httpx.MockTransport(setup.upstream)
    request = httpx.Request("GET", URL, headers={"X-Request-ID": "mine"})
    if mode == "sync":
        Transport(mock, **setup.options).handle_request(request)
    else:
        await AsyncTransport(mock, **setup.options).handle_async_request(request)
    assert setup.upstream.headers[0]["x-request-id"] == "mine"


async def test_no_correlation_outside_a_request(mode: str) -> None:
    """Outside a request there is no correlation ID to send: no header is made up."""
    setup = Setup(mode)
    await setup.get()
    assert "x-request-id" not in setup.upstream.headers[0]


@pytest.mark.parametrize(("status", "error"), [(404, "404"), (503, "503")])
async def test_error_status(mode: str, status: int, error: str) -> None:
    """4xx and 5xx answers are client errors: error.type is the status, span status ERROR."""
    setup = Setup(mode)
    setup.upstream.status = status
    response = await setup.get()
    assert response.status_code == status
    (span,) = setup.spans()
    assert span.status.status_code == StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == error
    assert setup.count(str(status), error) == 1.0


async def test_transport_error(mode: str) -> None:
    """A connection error is raised to the caller unchanged, recorded with its class name."""
    setup = Setup(mode)
    setup.upstream.error = httpx.ConnectError("refused")
    with pytest.raises(httpx.ConnectError):
        await setup.get()
    (span,) = setup.spans()
    assert (span.attributes or {})["error.type"] == "httpx.ConnectError"
    assert "http.response.status_code" not in (span.attributes or {})
    assert setup.count("", "httpx.ConnectError") == 1.0


async def test_credentials_are_redacted(mode: str) -> None:
    """url.full never carries user:password."""
    setup = Setup(mode)
    await setup.get("http://user:secret@billing.internal:8080/x")
    (span,) = setup.spans()
    assert (span.attributes or {})["url.full"] == "http://REDACTED:REDACTED@billing.internal:8080/x"


async def test_default_port_from_scheme(mode: str) -> None:
    """Without an explicit port, server.port is the scheme's default."""
    setup = Setup(mode)
    await setup.get("https://billing.internal/x")
    (span,) = setup.spans()
    assert (span.attributes or {})["server.port"] == 443


async def test_composes_with_breaker(mode: str) -> None:
    """Inside a breaker transport the call is traced and counted by both."""
    setup = Setup(mode)
    breaker = CircuitBreaker("billing", registry=setup.registry)
    await setup.get(breaker=breaker)
    assert len(setup.spans()) == 1
    assert setup.count("200", "") == 1.0
    assert (
        setup.registry.get_sample_value(
            semconv.CIRCUITBREAKER_CALLS, {"name": "billing", "kind": "successful"}
        )
        == 1.0
    )


class Boom:
    """A tracer provider whose tracer raises on every span."""

    def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
        return self

    def start_span(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracer down")


async def test_telemetry_failure_never_breaks_the_call(
    mode: str, caplog: pytest.LogCaptureFixture, correlation: str
) -> None:
    """A tracer that raises: the call succeeds, the failure is counted and logged once."""
    setup = Setup(mode, tracer_provider=Boom())
    for _ in range(2):
        response = await setup.get()
        assert response.status_code == 200
    assert setup.upstream.headers[1]["x-request-id"] == "cid-123"
    errors = setup.registry.get_sample_value(
        semconv.TELEMETRY_ERRORS, {semconv.LABEL_COMPONENT: "outbound"}
    )
    assert errors == 2.0
    assert [r.message for r in caplog.records if r.name == "toolkit.outbound"] == [
        "toolkit telemetry failed in outbound; the call goes on (logged once)"
    ]


async def test_hooks_and_raising_hooks(mode: str) -> None:
    """Hooks see the span and the request/response; a raising hook is counted, not raised."""
    seen: list[Any] = []

    def request_hook(span: trace.Span, request: httpx.Request) -> None:
        seen.append(("request", request.method))
        span.set_attribute("app.tenant", "t1")

    def response_hook(span: trace.Span, request: httpx.Request, response: httpx.Response) -> None:
        seen.append(("response", response.status_code))
        raise ValueError("hook bug")

    setup = Setup(mode, request_hook=request_hook, response_hook=response_hook)
    response = await setup.get()
    assert response.status_code == 200
    assert seen == [("request", "GET"), ("response", 200)]
    (span,) = setup.spans()
    assert (span.attributes or {})["app.tenant"] == "t1"
    errors = setup.registry.get_sample_value(
        semconv.TELEMETRY_ERRORS, {semconv.LABEL_COMPONENT: "outbound_hook"}
    )
    assert errors == 1.0


async def test_exporter_calls_are_not_traced(mode: str) -> None:
    """Under OpenTelemetry's suppression key (set while exporting) no span is made."""
    from opentelemetry import context
    from opentelemetry.instrumentation.utils import _SUPPRESS_INSTRUMENTATION_KEY

    setup = Setup(mode)
    token = context.attach(context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
    try:
        await setup.get()
    finally:
        context.detach(token)
    assert setup.spans() == []


def test_factories_return_transports() -> None:
    """The one-call helpers return the transport classes."""
    registry = CollectorRegistry()
    assert isinstance(httpx_transport(registry=registry), Transport)
    assert isinstance(async_httpx_transport(registry=registry), AsyncTransport)
