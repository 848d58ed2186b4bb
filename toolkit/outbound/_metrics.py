"""The HTTP client duration histogram: prometheus-client's (once per registry), OTLP's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from opentelemetry import metrics as metrics_api
from prometheus_client import CollectorRegistry, Histogram

from toolkit import semconv
from toolkit._version import __version__
from toolkit.metrics._registry import PerRegistry

if TYPE_CHECKING:
    from toolkit.metrics._otlp import Attributes

_LabelValues = tuple[str, str, str, str, str]


class ClientRecorder(Protocol):
    """Where an outbound call's duration goes: ``observe(labels, seconds)``."""

    def observe(self, labels: _LabelValues, seconds: float) -> None:
        """Observe one call's duration under ``labels`` (CLIENT_DURATION_LABELS order)."""


class ClientMetrics:
    """``http_client_request_duration_seconds`` of one registry, with cached children.

    Use :func:`client_metrics`, never the constructor: prometheus-client refuses to
    register a name twice in one registry.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the histogram in ``registry``."""
        self.duration = Histogram(
            semconv.HTTP_CLIENT_REQUEST_DURATION,
            "Duration of HTTP client requests.",
            semconv.CLIENT_DURATION_LABELS,
            buckets=semconv.DURATION_BUCKETS,
            registry=registry,
        )
        # Bounded: known methods, the hosts this process calls, status codes.
        self._children: dict[_LabelValues, Any] = {}

    def observe(self, labels: _LabelValues, seconds: float) -> None:
        """Observe one call's duration under ``labels`` (CLIENT_DURATION_LABELS order)."""
        child = self._children.get(labels)
        if child is None:
            child = self._children[labels] = self.duration.labels(*labels)
        child.observe(seconds)


client_metrics = PerRegistry(ClientMetrics)
"""The client collectors of a registry (default: prometheus-client's), made once."""


class OTLPClientMetrics:
    """``http.client.request.duration`` on a meter provider (default: the global one).

    The same observations as :class:`ClientMetrics`, with the conventions' attributes:
    the port and status code as integers, left out (like an empty error type) when
    unknown.
    """

    def __init__(self, meter_provider: metrics_api.MeterProvider | None = None) -> None:
        """Create the histogram (one instrument per provider, however often it is made)."""
        provider = meter_provider or metrics_api.get_meter_provider()
        meter = provider.get_meter("toolkit.outbound", __version__)
        self.duration = meter.create_histogram(
            semconv.OTLP_HTTP_CLIENT_REQUEST_DURATION,
            unit=semconv.UNIT_SECONDS,
            description="Duration of HTTP client requests.",
            explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
        )
        # Bounded: known methods, the hosts this process calls, status codes.
        self._attributes: dict[_LabelValues, Attributes] = {}

    def observe(self, labels: _LabelValues, seconds: float) -> None:
        """Record one call's duration; ``labels`` in CLIENT_DURATION_LABELS order."""
        attributes = self._attributes.get(labels)
        if attributes is None:
            method, address, port, status, error_type = labels
            attributes = {
                semconv.SPAN_ATTR_HTTP_METHOD: method,
                semconv.SPAN_ATTR_SERVER_ADDRESS: address,
            }
            if port:
                attributes[semconv.SPAN_ATTR_SERVER_PORT] = int(port)
            if status:
                attributes[semconv.SPAN_ATTR_HTTP_STATUS_CODE] = int(status)
            if error_type:
                attributes[semconv.SPAN_ATTR_ERROR_TYPE] = error_type
            self._attributes[labels] = attributes
        self.duration.record(seconds, attributes)


class PairedClientMetrics:
    """Both recorders at once (``metrics_exporter="both"``)."""

    def __init__(self, first: ClientRecorder, second: ClientRecorder) -> None:
        """Pair ``first`` and ``second``; every observation goes to both."""
        self.first = first
        self.second = second

    def observe(self, labels: _LabelValues, seconds: float) -> None:
        """Observe into both, the second even if the first raised."""
        try:
            self.first.observe(labels, seconds)
        finally:
            self.second.observe(labels, seconds)
