"""A minimal OTLP/HTTP receiver of traces and metrics: the probe's own collector.

The service under probe exports its spans here (``OTEL_EXPORTER_OTLP_ENDPOINT``
pointed at :attr:`SpanReceiver.endpoint`); the probe then looks for the server span of
its own request. Metrics pushed over OTLP (``metrics_exporter="otlp"``) are kept too, as
data points. Only protobuf-encoded ``ExportTraceServiceRequest`` bodies on
``/v1/traces`` and ``ExportMetricsServiceRequest`` bodies on ``/v1/metrics`` are accepted
(what the OTLP/HTTP exporters send by default). Serves on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

TRACES_PATH = "/v1/traces"
METRICS_PATH = "/v1/metrics"
PROTOBUF = "application/x-protobuf"
MAX_BODY_BYTES = 16 * 1024 * 1024
SPAN_KIND_SERVER = Span.SPAN_KIND_SERVER


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as received: IDs as lowercase hex, attributes as plain values."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int
    attributes: dict[str, Any]
    service: str | None


@dataclass(frozen=True)
class ReceivedPoint:
    """One metric data point as received, with its metric's name, unit and kind.

    ``kind`` is the metric's data field: ``histogram``, ``sum``, ``gauge``,
    ``exponential_histogram`` or ``summary``. ``value`` is a sum's or gauge's value;
    ``count``, ``sum``, ``bounds`` and ``bucket_counts`` are a histogram's (``None`` and
    empty otherwise).
    """

    name: str
    unit: str
    kind: str
    attributes: dict[str, Any]
    service: str | None
    scope: str
    value: float | None = None
    count: int | None = None
    sum: float | None = None
    bounds: tuple[float, ...] = ()
    bucket_counts: tuple[int, ...] = ()


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind)


def decode_spans(body: bytes) -> list[ReceivedSpan]:
    """The spans of a protobuf ``ExportTraceServiceRequest``; raises if it is not one."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans: list[ReceivedSpan] = []
    for resource_spans in request.resource_spans:
        resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
        service = resource.get("service.name")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        name=span.name,
                        kind=span.kind,
                        attributes={kv.key: _value(kv.value) for kv in span.attributes},
                        service=service if isinstance(service, str) else None,
                    )
                )
    return spans


def _point(name: str, unit: str, kind: str, point: Any, service: Any, scope: str) -> ReceivedPoint:
    common: dict[str, Any] = {
        "name": name,
        "unit": unit,
        "kind": kind,
        "attributes": {kv.key: _value(kv.value) for kv in point.attributes},
        "service": service if isinstance(service, str) else None,
        "scope": scope,
    }
    if kind in ("sum", "gauge"):
        number = point.WhichOneof("value")
        return ReceivedPoint(**common, value=None if number is None else getattr(point, number))
    histogram = kind == "histogram"
    return ReceivedPoint(
        **common,
        count=point.count,
        sum=point.sum,
        bounds=tuple(point.explicit_bounds) if histogram else (),
        bucket_counts=tuple(point.bucket_counts) if histogram else (),
    )


def decode_metrics(body: bytes) -> list[ReceivedPoint]:
    """The data points of a protobuf ``ExportMetricsServiceRequest``; raises if it is not one."""
    request = ExportMetricsServiceRequest()
    request.ParseFromString(body)
    points: list[ReceivedPoint] = []
    for resource_metrics in request.resource_metrics:
        resource = {kv.key: _value(kv.value) for kv in resource_metrics.resource.attributes}
        service = resource.get("service.name")
        for scope_metrics in resource_metrics.scope_metrics:
            scope = scope_metrics.scope.name
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                if kind is None:
                    continue
                for point in getattr(metric, kind).data_points:
                    points.append(_point(metric.name, metric.unit, kind, point, service, scope))
    return points


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        if path not in (TRACES_PATH, METRICS_PATH):
            self._reply(404, b"")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._reply(413, b"")
            return
        body = self.rfile.read(length)
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        if self.headers.get("Content-Type", "").split(";")[0].strip() != PROTOBUF:
            self._reply(415, b"")
            return
        try:
            if path == METRICS_PATH:
                points = decode_metrics(body)
            else:
                spans = decode_spans(body)
        except Exception:  # protobuf's DecodeError (its module has no type stubs)
            self._reply(400, b"")
            return
        if path == METRICS_PATH:
            self.server.owner.add_points(points)
            self._reply(200, ExportMetricsServiceResponse().SerializeToString())
        else:
            self.server.owner.add(spans)
            self._reply(200, ExportTraceServiceResponse().SerializeToString())

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", PROTOBUF)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the probe reports what matters."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], owner: SpanReceiver) -> None:
        super().__init__(address, _Handler)
        self.owner = owner


class SpanReceiver:
    """Collects spans and metric points exported to it; a context manager that serves
    in a thread.

    ``port=0`` picks a free port: read :attr:`endpoint` after entering.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 4318) -> None:
        self._address = (host, port)
        self._spans: list[ReceivedSpan] = []
        self._points: list[ReceivedPoint] = []
        self._changed = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> SpanReceiver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind and serve in a daemon thread (``OSError`` if the port is taken)."""
        self._server = _Server(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="toolkit-otlp-receiver", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    @property
    def endpoint(self) -> str:
        """The base URL to give the service as ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
        if self._server is None:
            raise RuntimeError("the receiver is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, spans: list[ReceivedSpan]) -> None:
        """Record ``spans`` (called by the HTTP handler)."""
        with self._changed:
            self._spans.extend(spans)
            self._changed.notify_all()

    def spans(self) -> list[ReceivedSpan]:
        """Every span received so far."""
        with self._changed:
            return list(self._spans)

    def add_points(self, points: list[ReceivedPoint]) -> None:
        """Record metric ``points`` (called by the HTTP handler)."""
        with self._changed:
            self._points.extend(points)
            self._changed.notify_all()

    def points(self, name: str | None = None) -> list[ReceivedPoint]:
        """Every metric data point received so far (of metric ``name`` if given), oldest
        first: with cumulative temporality, each push repeats the running totals."""
        with self._changed:
            return [p for p in self._points if name is None or p.name == name]

    def wait_for_point(
        self,
        name: str,
        timeout: float,
        match: Callable[[ReceivedPoint], bool] | None = None,
    ) -> ReceivedPoint | None:
        """The newest point of metric ``name`` that ``match`` accepts, or ``None`` if none
        came within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for point in reversed(self._points):
                    if point.name == name and (match is None or match(point)):
                        return point
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)

    def wait_for(self, trace_id: str, parent_span_id: str, timeout: float) -> ReceivedSpan | None:
        """The first span of ``trace_id`` whose parent is ``parent_span_id``, or ``None``.

        A server span wins over other kinds; waits up to ``timeout`` seconds for one.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [
                    s
                    for s in self._spans
                    if s.trace_id == trace_id and s.parent_span_id == parent_span_id
                ]
                if found:
                    server = [s for s in found if s.kind == SPAN_KIND_SERVER]
                    return (server or found)[0]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)
