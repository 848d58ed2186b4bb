"""HTTP metrics over OTLP: the conventions' instruments on an OpenTelemetry meter provider.

``metrics_exporter`` says where the HTTP server and client metrics go: ``"prometheus"``
(the default: prometheus-client, served on ``/metrics``), ``"otlp"`` (OpenTelemetry
instruments only, pushed by a meter provider) or ``"both"``. The explicit argument wins
over ``OTEL_METRICS_EXPORTER``, which wins over the default.

Only OpenTelemetry's API is imported here (the middleware loads it anyway); the SDK and
the OTLP exporter are imported by :func:`build_meter_provider`, when it is called.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, Literal

from opentelemetry import context as otel_context
from opentelemetry import metrics as metrics_api
from opentelemetry import trace

from toolkit import semconv
from toolkit._version import __version__

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics import MeterProvider as SDKMeterProvider
    from prometheus_client import CollectorRegistry

ENV_METRICS_EXPORTER = "OTEL_METRICS_EXPORTER"
ENV_OTLP_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
ENV_OTLP_METRICS_ENDPOINT = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
ENV_OTLP_PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"
ENV_OTLP_METRICS_PROTOCOL = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"
ENV_METRIC_EXPORT_INTERVAL = "OTEL_METRIC_EXPORT_INTERVAL"

MetricsExporter = Literal["prometheus", "otlp", "both"]
PROMETHEUS: Final = "prometheus"
OTLP: Final = "otlp"
BOTH: Final = "both"
_EXPORTERS: dict[str, MetricsExporter] = {PROMETHEUS: PROMETHEUS, OTLP: OTLP, BOTH: BOTH}
METRICS_EXPORTERS = tuple(_EXPORTERS)
"""The values ``metrics_exporter`` accepts."""

DEFAULT_OTLP_BASE = "http://localhost:4318"
METRICS_PATH = "v1/metrics"
PROTOCOL = "http/protobuf"
DEFAULT_EXPORT_INTERVAL = 60.0
"""Seconds between two pushes, as the SDK's default (``OTEL_METRIC_EXPORT_INTERVAL``)."""
DEFAULT_SHUTDOWN_TIMEOUT = 5.0

# Measurements recorded in this context offer the SDK no exemplar (its span is the invalid
# one): an exemplar offer costs microseconds, and only the duration links to traces, as in
# prometheus-client. Not an empty Context: the SDK takes a falsy one for "the current one".
_NO_TRACE = trace.set_span_in_context(trace.INVALID_SPAN, otel_context.Context())

Increment = Callable[[float], None]
Attributes = dict[str, "str | int"]
_ServerKey = tuple[str, str, str, int, str]


def resolve_metrics_exporter(
    explicit: str | None, environ: Mapping[str, str] | None = None
) -> MetricsExporter:
    """``explicit`` if given, else what ``OTEL_METRICS_EXPORTER`` names, else ``"prometheus"``.

    ``OTEL_METRICS_EXPORTER`` is a comma-separated list: with ``otlp`` in it the metrics go
    over OTLP, beside Prometheus if ``prometheus`` is listed too. Anything else
    (``prometheus``, ``none``, ``console``) leaves toolkit's Prometheus metrics as they
    are: ``none`` is often set only to quiet an OpenTelemetry distro's own exporter, and
    toolkit's metrics have their own switch (``metrics``, ``TOOLKIT_METRICS``).
    """
    if explicit is not None:
        found = _EXPORTERS.get(explicit)
        if found is None:
            raise ValueError(
                f"metrics_exporter: {explicit!r} is not one of {', '.join(METRICS_EXPORTERS)}"
            )
        return found
    env = os.environ if environ is None else environ
    names = {name.strip().lower() for name in env.get(ENV_METRICS_EXPORTER, "").split(",")}
    if OTLP not in names:
        return PROMETHEUS
    return BOTH if PROMETHEUS in names else OTLP


def metrics_endpoint(environ: Mapping[str, str]) -> str:
    """Where OTLP metrics go, as the OTLP/HTTP exporter resolves it from ``environ``."""
    endpoint = environ.get(ENV_OTLP_METRICS_ENDPOINT)
    if endpoint:
        return endpoint
    base = environ.get(ENV_OTLP_ENDPOINT) or DEFAULT_OTLP_BASE
    return f"{base.removesuffix('/')}/{METRICS_PATH}"


def _export_interval(environ: Mapping[str, str]) -> float:
    raw = environ.get(ENV_METRIC_EXPORT_INTERVAL, "").strip()
    if not raw:
        return DEFAULT_EXPORT_INTERVAL
    try:
        millis = float(raw)
    except ValueError:
        millis = 0.0
    if not millis > 0:
        raise ValueError(f"{ENV_METRIC_EXPORT_INTERVAL}: {raw!r} is not a number of milliseconds")
    return millis / 1000.0


def _check_protocol(environ: Mapping[str, str]) -> None:
    for name in (ENV_OTLP_METRICS_PROTOCOL, ENV_OTLP_PROTOCOL):
        value = environ.get(name, "").strip()
        if value:
            if value != PROTOCOL:
                raise ValueError(
                    f"{name}: toolkit pushes metrics over {PROTOCOL} only, not {value!r}; "
                    f"set {ENV_OTLP_METRICS_PROTOCOL}={PROTOCOL} and an OTLP/HTTP endpoint"
                )
            return  # the metrics-specific variable wins


def build_meter_provider(
    service: str,
    environ: Mapping[str, str] | None = None,
    *,
    endpoint: str | None = None,
    export_interval: float | None = None,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
    registry: CollectorRegistry | None = None,
) -> SDKMeterProvider:
    """Return an SDK meter provider with ``service.name`` that pushes over OTLP/HTTP.

    The endpoint is ``endpoint``, else ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT``, else
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/metrics``, else ``localhost:4318``; a push
    every ``export_interval`` seconds, else ``OTEL_METRIC_EXPORT_INTERVAL`` milliseconds,
    else 60 s; cumulative temporality. The exporter reads its other ``OTEL_EXPORTER_OTLP_*``
    variables (headers, timeout, compression, certificates) itself. ``shutdown()`` — also
    called at exit — pushes what the last interval recorded and returns within
    ``shutdown_timeout`` seconds, even when the collector hangs. A push that fails counts
    one in ``toolkit_telemetry_errors_total{component="metrics_export"}`` of
    ``registry`` (default: prometheus-client's).
    """
    env = os.environ if environ is None else environ
    _check_protocol(env)
    interval = _export_interval(env) if export_interval is None else export_interval
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    from toolkit.metrics._otlp_reader import BoundedMetricReader, CountingMetricExporter

    reader = BoundedMetricReader(
        CountingMetricExporter(endpoint=endpoint or metrics_endpoint(env), registry=registry),
        export_interval_millis=interval * 1000.0,
        shutdown_timeout=shutdown_timeout,
    )
    return MeterProvider(metric_readers=[reader], resource=Resource.create({SERVICE_NAME: service}))


class OTLPServerMetrics:
    """The HTTP server instruments of a meter provider, with cached attribute sets.

    Attribute values are bounded (known methods, schemes, route templates, status codes),
    so are the caches. Instruments of the same name on one provider are one instrument:
    two middlewares may each build their own bundle.
    """

    def __init__(self, meter_provider: metrics_api.MeterProvider | None = None) -> None:
        """Create the instruments (default provider: OpenTelemetry's global one)."""
        provider = meter_provider or metrics_api.get_meter_provider()
        meter = provider.get_meter("toolkit.middleware", __version__)
        self.duration = meter.create_histogram(
            semconv.OTLP_HTTP_SERVER_REQUEST_DURATION,
            unit=semconv.UNIT_SECONDS,
            description="Duration of HTTP server requests.",
            explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
        )
        self.active = meter.create_up_down_counter(
            semconv.OTLP_HTTP_SERVER_ACTIVE_REQUESTS,
            unit=semconv.UNIT_REQUESTS,
            description="Number of active HTTP server requests.",
        )
        self.request_size = meter.create_histogram(
            semconv.OTLP_HTTP_SERVER_REQUEST_BODY_SIZE,
            unit=semconv.UNIT_BYTES,
            description="Size of HTTP server request bodies.",
            explicit_bucket_boundaries_advisory=semconv.BODY_SIZE_BUCKETS,
        )
        self.response_size = meter.create_histogram(
            semconv.OTLP_HTTP_SERVER_RESPONSE_BODY_SIZE,
            unit=semconv.UNIT_BYTES,
            description="Size of HTTP server response bodies.",
            explicit_bucket_boundaries_advisory=semconv.BODY_SIZE_BUCKETS,
        )
        self._attributes: dict[_ServerKey, Attributes] = {}
        self._increments: dict[tuple[str, ...], Increment] = {}

    def active_increment(self, values: tuple[str, ...]) -> Increment:
        """Return the increment of the active requests of ``(method, scheme)`` (``-1`` to end)."""
        found = self._increments.get(values)
        if found is None:
            method, scheme = values
            attributes: Attributes = {
                semconv.SPAN_ATTR_HTTP_METHOD: method,
                semconv.SPAN_ATTR_URL_SCHEME: scheme,
            }
            add = self.active.add

            def increment(amount: float) -> None:
                add(amount, attributes, _NO_TRACE)

            found = self._increments[values] = increment
        return found

    def attributes(
        self, method: str, scheme: str, route: str, status: int, error_type: str
    ) -> Attributes:
        """The attribute set of one request's measurements, cached (never mutate it)."""
        key = (method, scheme, route, status, error_type)
        found = self._attributes.get(key)
        if found is None:
            found = {
                semconv.SPAN_ATTR_HTTP_METHOD: method,
                semconv.SPAN_ATTR_URL_SCHEME: scheme,
                semconv.SPAN_ATTR_HTTP_ROUTE: route,
            }
            if status:
                found[semconv.SPAN_ATTR_HTTP_STATUS_CODE] = status
            if error_type:
                found[semconv.SPAN_ATTR_ERROR_TYPE] = error_type
            self._attributes[key] = found
        return found

    def record(
        self,
        attributes: Attributes,
        duration: float,
        response_bytes: int,
        request_size: int | None,
        exemplar: bool = False,
    ) -> None:
        """Record one request: duration, response body size, request body size if known.

        With ``exemplar`` the duration is recorded in the current context, so the SDK's
        exemplar filter may link it to the current span; otherwise in none.
        """
        self.duration.record(duration, attributes, None if exemplar else _NO_TRACE)
        self.response_size.record(response_bytes, attributes, _NO_TRACE)
        if request_size is not None:
            self.request_size.record(request_size, attributes, _NO_TRACE)


class PairedIncrements:
    """``active_increment`` of two backends at once (``metrics_exporter="both"``)."""

    def __init__(
        self,
        first: Callable[[tuple[str, ...]], Increment],
        second: Callable[[tuple[str, ...]], Increment],
    ) -> None:
        """Pair ``first`` and ``second``; both are called for every change."""
        self._first = first
        self._second = second
        self._found: dict[tuple[str, ...], Increment] = {}

    def __call__(self, values: tuple[str, ...]) -> Increment:
        """Return one increment that changes both series of ``values``."""
        found = self._found.get(values)
        if found is None:
            first = self._first(values)
            second = self._second(values)

            def increment(amount: float) -> None:
                try:
                    first(amount)
                finally:
                    second(amount)

            found = self._found[values] = increment
        return found
