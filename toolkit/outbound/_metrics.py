"""The HTTP client duration histogram, created once per registry."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Histogram

from toolkit import semconv
from toolkit.metrics._registry import PerRegistry

_LabelValues = tuple[str, str, str, str, str]


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
