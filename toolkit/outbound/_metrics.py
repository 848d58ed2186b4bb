"""The HTTP client duration histogram, created once per registry."""

from __future__ import annotations

import threading
import weakref
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Histogram

from toolkit import semconv

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


_lock = threading.Lock()
_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, ClientMetrics] = (
    weakref.WeakKeyDictionary()
)


def client_metrics(registry: CollectorRegistry | None = None) -> ClientMetrics:
    """Return the client collectors of ``registry`` (default: prometheus-client's), made once."""
    target = REGISTRY if registry is None else registry
    with _lock:
        found = _by_registry.get(target)
        if found is None:
            found = _by_registry[target] = ClientMetrics(target)
        return found
