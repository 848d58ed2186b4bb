"""Shared fixtures for the middleware tests: fresh registry, in-memory spans, captured logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import structlog
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from toolkit import semconv
from toolkit.logs import JSONLinesHandler, configure_logging

SERVICE = "orders"


@dataclass
class Harness:
    """Everything a middleware test injects and then reads back."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    exporter: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    stream: io.StringIO = field(default_factory=io.StringIO)
    provider: TracerProvider = field(init=False)

    def __post_init__(self) -> None:
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def options(self, **extra: Any) -> dict[str, Any]:
        """Keyword options wiring a middleware to this harness."""
        return {
            "service": SERVICE,
            "registry": self.registry,
            "tracer_provider": self.provider,
            **extra,
        }

    def spans(self) -> list[ReadableSpan]:
        """Finished spans, oldest first."""
        return list(self.exporter.get_finished_spans())

    def logs(self) -> list[dict[str, Any]]:
        """Every JSON log line written so far, parsed."""
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def access_logs(self) -> list[dict[str, Any]]:
        """The access-log lines only."""
        return [line for line in self.logs() if line.get("logger") == "toolkit.access"]

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """``registry.get_sample_value`` shortcut."""
        return self.registry.get_sample_value(name, labels or {})

    def duration_count(self, method: str, route: str, status: int, error: str = "") -> float:
        """Number of observations in the duration histogram for one label set (0 if none)."""
        labels = {
            semconv.LABEL_METHOD: method,
            semconv.LABEL_ROUTE: route,
            semconv.LABEL_STATUS_CODE: str(status),
            semconv.LABEL_ERROR_TYPE: error,
        }
        value = self.sample(semconv.HTTP_SERVER_REQUEST_DURATION + "_count", labels)
        return 0.0 if value is None else value


def make_harness() -> Iterator[Harness]:
    """Build a harness with toolkit's JSON logging into a buffer; undo it afterwards."""
    harness = Harness()
    configure_logging(service=SERVICE, stream=harness.stream, level="INFO")
    try:
        yield harness
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if isinstance(h, JSONLinesHandler)]:
            root.removeHandler(handler)
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
        harness.provider.shutdown()


@dataclass
class WSGIResponse:
    """What ``call_wsgi`` got back: enough of httpx.Response for the tests."""

    status_code: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.content.decode("utf-8")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.content)


def call_wsgi(
    app: Any,
    path: str,
    headers: dict[str, str] | list[tuple[str, str]] | list[tuple[bytes, bytes]] | None = None,
    method: str = "GET",
) -> WSGIResponse:
    """Call a WSGI app as a server would (header bytes as latin-1, PEP 3333), then close."""
    from wsgiref.util import setup_testing_defaults

    path_info, _, query = path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
    }
    setup_testing_defaults(environ)
    items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    for name, value in items:
        key = name.decode("latin-1") if isinstance(name, bytes) else name
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        environ["HTTP_" + key.upper().replace("-", "_")] = text
    started: list[Any] = []

    def start_response(
        status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        started[:] = [status, response_headers]
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, response_headers = started
    return WSGIResponse(int(status[:3]), {k.lower(): v for k, v in response_headers}, body)


async def call(
    app: Any,
    asgi: bool,
    path: str,
    headers: dict[str, str] | list[tuple[bytes, bytes]] | None = None,
    method: str = "GET",
) -> Any:
    """Send one request to ``app`` in-process: httpx's ASGI transport, or ``call_wsgi``."""
    import httpx

    if not asgi:
        return call_wsgi(app, path, headers, method)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.request(method, path, headers=headers)


def http_scope(
    path: str, headers: list[tuple[bytes, bytes]] | None = None, method: str = "GET"
) -> dict[str, Any]:
    """A minimal ASGI HTTP scope as a server would build it."""
    path_part, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path_part,
        "raw_path": path_part.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def call_asgi(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    """Run one ASGI HTTP request with an empty body; return the messages the app sent."""
    sent: list[dict[str, Any]] = []
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": b"", "more_body": False}
        import asyncio

        await asyncio.Event().wait()  # never: the client stays connected
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


class FakeClock:
    """A perf_counter replacement the test advances by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds
