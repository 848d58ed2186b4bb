"""Keyword options of every outbound transport and adapter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.propagators.textmap import TextMapPropagator
    from opentelemetry.trace import TracerProvider
    from prometheus_client import CollectorRegistry

    from toolkit.metrics._otlp import MetricsExporter
    from toolkit.outbound._telemetry import RequestHook, ResponseHook


class OutboundOptions(TypedDict, total=False):
    """Options of :class:`Transport`, :class:`AsyncTransport`, :class:`TelemetryAdapter`.

    ``tracer_provider``/``propagator`` default to OpenTelemetry's global ones,
    ``registry`` to prometheus-client's, ``correlation_header`` to
    ``TOOLKIT_CORRELATION_HEADER`` or ``X-Request-ID``. ``tracing``/``metrics`` turn the
    span/the histogram off; ``metrics_exporter`` (else ``OTEL_METRICS_EXPORTER``) sends
    the histogram to ``"prometheus"`` (default), ``"otlp"`` (``meter_provider``, default
    the global one) or ``"both"``. Hooks are called with the span (OpenTelemetry style); one
    that raises is counted and logged once, never raised into the call.
    """

    tracer_provider: TracerProvider
    propagator: TextMapPropagator
    registry: CollectorRegistry
    correlation_header: str
    tracing: bool
    metrics: bool
    metrics_exporter: MetricsExporter
    meter_provider: MeterProvider
    request_hook: RequestHook
    response_hook: ResponseHook
    environ: Mapping[str, str]
