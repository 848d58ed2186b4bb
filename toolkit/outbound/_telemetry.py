"""What every outbound call records, whatever the HTTP library: headers, span, duration.

``OutboundTelemetry`` is built once per transport or adapter and is read-only
afterwards; ``ClientCall`` is created per call. Every step is guarded: a telemetry
failure is counted in ``toolkit_telemetry_errors_total{component="outbound"}`` and
logged once, and the call goes on.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, MutableMapping
from time import perf_counter
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from toolkit import semconv
from toolkit._http import ENV_CORRELATION_HEADER, error_type_of, normalize_method
from toolkit._version import __version__
from toolkit.context import correlation_id_var
from toolkit.metrics._otlp import OTLP, PROMETHEUS, resolve_metrics_exporter
from toolkit.outbound._metrics import (
    ClientRecorder,
    OTLPClientMetrics,
    PairedClientMetrics,
    client_metrics,
)

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.propagators.textmap import TextMapPropagator
    from prometheus_client import CollectorRegistry

_log = logging.getLogger("toolkit.outbound")

OUTBOUND_COMPONENT = "outbound"
HOOK_COMPONENT = "outbound_hook"
DEFAULT_PORTS = {"http": 80, "https": 443}
REDACTED = "REDACTED"

RequestHook = Callable[[trace.Span, Any], object]
"""``request_hook(span, request)``: called before the request is sent (library's request)."""
ResponseHook = Callable[[trace.Span, Any, Any], object]
"""``response_hook(span, request, response)``: called when the response headers arrived."""


def _suppressed() -> bool:
    # OpenTelemetry's exporters set this key while they export: never trace their calls.
    try:
        from opentelemetry.instrumentation.utils import is_http_instrumentation_enabled
    except ImportError:  # pragma: no cover - opentelemetry-instrumentation is a dependency
        return False
    return not is_http_instrumentation_enabled()


def redact_url(parts: SplitResult) -> str:
    """``url.full`` as the conventions want it: credentials replaced by ``REDACTED``."""
    if parts.username is None and parts.password is None:
        return parts.geturl()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{REDACTED}:{REDACTED}@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return parts._replace(netloc=netloc).geturl()


class OutboundTelemetry:
    """What a transport or adapter precomputes: tracer, propagator, histogram, header name.

    Explicit arguments win over the environment (``TOOLKIT_CORRELATION_HEADER``,
    ``OTEL_METRICS_EXPORTER``), which wins over the defaults (global tracer and meter
    providers and propagator, prometheus-client's default registry, ``X-Request-ID``).
    """

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        propagator: TextMapPropagator | None = None,
        registry: CollectorRegistry | None = None,
        correlation_header: str | None = None,
        tracing: bool = True,
        metrics: bool = True,
        request_hook: RequestHook | None = None,
        response_hook: ResponseHook | None = None,
        environ: Mapping[str, str] | None = None,
        metrics_exporter: str | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        """Resolve the options; registers the client histogram once per registry."""
        env = os.environ if environ is None else environ
        self.tracer: trace.Tracer | None = None
        if tracing:
            provider = tracer_provider or trace.get_tracer_provider()
            self.tracer = provider.get_tracer("toolkit.outbound", __version__)
        self.propagator = propagator
        self.registry = registry
        self.metrics: ClientRecorder | None = None
        if metrics:
            exporter = resolve_metrics_exporter(metrics_exporter, env)
            if exporter == PROMETHEUS:
                self.metrics = client_metrics(registry)
            elif exporter == OTLP:
                self.metrics = OTLPClientMetrics(meter_provider)
            else:
                self.metrics = PairedClientMetrics(
                    client_metrics(registry), OTLPClientMetrics(meter_provider)
                )
        self.correlation_header = (
            correlation_header or env.get(ENV_CORRELATION_HEADER) or semconv.CORRELATION_HEADER
        )
        self.request_hook = request_hook
        self.response_hook = response_hook
        self._reported: set[str] = set()
        self._lock = threading.Lock()

    def report_error(self, component: str, exc: BaseException) -> None:
        """Count a swallowed failure; log the first one of each component. Never raises."""
        try:
            from toolkit.metrics._server import server_metrics

            metrics = server_metrics(self.registry)
            metrics.child(metrics.telemetry_errors, (component,)).inc()
        except Exception:  # pragma: no cover - the last line of defence
            pass
        try:
            with self._lock:
                first = component not in self._reported
                self._reported.add(component)
            if first:
                _log.error(
                    "toolkit telemetry failed in %s; the call goes on (logged once)",
                    component,
                    exc_info=exc,
                )
        except Exception:  # pragma: no cover - the last line of defence
            pass

    def start(
        self, method: str, parts: SplitResult, headers: MutableMapping[str, str], request: Any
    ) -> ClientCall:
        """Start the CLIENT span and add the correlation ID and trace context to ``headers``."""
        return ClientCall(self, method, parts, headers, request)


class ClientCall:
    """One outbound call: created per call, never shared."""

    __slots__ = ("_start", "_token", "core", "labels_head", "method_label", "request", "span")

    def __init__(
        self,
        core: OutboundTelemetry,
        method: str,
        parts: SplitResult,
        headers: MutableMapping[str, str],
        request: Any,
    ) -> None:
        """Start the span (current while the request is sent) and inject the headers."""
        self.core = core
        self.request = request
        self.span: trace.Span | None = None
        self._token: object = None
        self.method_label = method_label = normalize_method(method)
        host = ""
        port = 0
        cid: str | None = None
        try:
            host = parts.hostname or ""
            port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
            cid = correlation_id_var.get()
            if cid is not None and core.correlation_header not in headers:
                headers[core.correlation_header] = cid
        except Exception as exc:
            core.report_error(OUTBOUND_COMPONENT, exc)
        self.labels_head = (method_label, host, str(port) if port else "")
        if core.tracer is not None and not _suppressed():
            try:
                attributes: dict[str, Any] = {
                    semconv.SPAN_ATTR_HTTP_METHOD: method_label,
                    semconv.SPAN_ATTR_SERVER_ADDRESS: host,
                    semconv.SPAN_ATTR_URL_FULL: redact_url(parts),
                }
                if port:
                    attributes[semconv.SPAN_ATTR_SERVER_PORT] = port
                if method_label == semconv.OTHER_METHOD:
                    attributes[semconv.SPAN_ATTR_HTTP_METHOD_ORIGINAL] = method
                    name = semconv.SPAN_NAME_OTHER_METHOD
                else:
                    name = method_label
                if cid is not None:
                    attributes[semconv.SPAN_ATTR_CORRELATION_ID] = cid
                span = core.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
                self.span = span
                self._token = otel_context.attach(trace.set_span_in_context(span))
            except Exception as exc:
                core.report_error(OUTBOUND_COMPONENT, exc)
        try:
            # Inject even without a span of ours: the caller's trace still crosses over.
            if core.propagator is None:
                propagate.inject(headers)
            else:
                core.propagator.inject(headers)
        except Exception as exc:
            core.report_error(OUTBOUND_COMPONENT, exc)
        if self.span is not None and core.request_hook is not None:
            try:
                core.request_hook(self.span, request)
            except Exception as exc:
                core.report_error(HOOK_COMPONENT, exc)
        self._start = perf_counter()

    def finish(
        self, status: int | None, exc: BaseException | None = None, response: Any = None
    ) -> None:
        """Record the duration, end the span and restore the context. Never raises."""
        duration = perf_counter() - self._start
        core = self.core
        if exc is not None:
            error_type = error_type_of(exc)
        elif status is not None and status >= 400:
            error_type = str(status)
        else:
            error_type = ""
        status_label = "" if status is None else str(status)
        if core.metrics is not None:
            try:
                core.metrics.observe((*self.labels_head, status_label, error_type), duration)
            except Exception as metrics_exc:
                core.report_error(OUTBOUND_COMPONENT, metrics_exc)
        span = self.span
        if span is not None:
            if core.response_hook is not None and response is not None:
                try:
                    core.response_hook(span, self.request, response)
                except Exception as hook_exc:
                    core.report_error(HOOK_COMPONENT, hook_exc)
            try:
                if status is not None:
                    span.set_attribute(semconv.SPAN_ATTR_HTTP_STATUS_CODE, status)
                if exc is not None:
                    span.record_exception(exc)
                if error_type:
                    span.set_attribute(semconv.SPAN_ATTR_ERROR_TYPE, error_type)
                    span.set_status(Status(StatusCode.ERROR))
                span.end()
            except Exception as span_exc:
                core.report_error(OUTBOUND_COMPONENT, span_exc)
        if self._token is not None:
            try:
                otel_context.detach(self._token)  # type: ignore[arg-type]
            except Exception as ctx_exc:
                core.report_error(OUTBOUND_COMPONENT, ctx_exc)
            self._token = None
